/**
 * Last-resort cleanup: the tests dispose of what they start in afterEach/afterAll; these
 * synchronous handlers run on process exit too, so an aborted run leaves no PostgreSQL, Redis or
 * app process behind and no temporary folder.
 */
const handlers = new Set<() => void>();
let installed = false;

function runAll() {
  const pending = [...handlers].reverse();
  handlers.clear();
  for (const run of pending) {
    try {
      run();
    } catch {
      // best effort: the process is going away
    }
  }
}

function install() {
  installed = true;
  process.once('exit', runAll);
  // An interrupted run (Ctrl-C, the runner stopping its worker) cleans up too, then dies of the
  // same signal as it would have.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      runAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export function onProcessExit(handler: () => void): () => void {
  if (!installed) install();
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** Disposers run in reverse order of registration (the app before its database). */
export class Resources {
  private readonly disposers: Array<() => Promise<void>> = [];

  add<T>(resource: T, dispose: (resource: T) => Promise<void>): T {
    this.disposers.push(() => dispose(resource));
    return resource;
  }

  async dispose(): Promise<void> {
    const errors: unknown[] = [];
    while (this.disposers.length > 0) {
      const dispose = this.disposers.pop();
      try {
        await dispose?.();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
