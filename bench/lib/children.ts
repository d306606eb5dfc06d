import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './cpu.js';

/**
 * Every process the bench starts goes through here, so that all of them die with the bench,
 * whatever way it ends: normal end, exception, Ctrl-C or SIGTERM.
 */
const children = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface Server {
  name: string;
  pid: number;
  url: string;
  /** Where the child's stdout and stderr go. */
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** A port nobody listens on right now (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('port')),
      );
    });
  });
}

/** Starts `node args…`; `node` is the bench's own Node.js unless another binary is given. */
export function start(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
  port: number,
  cwd: string,
  logDir: string,
  node = process.execPath,
): Server {
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(node, args, {
    cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return { name, pid: child.pid, url: `http://127.0.0.1:${port}`, logFile, child, exited };
}

export function logTail(server: Server, lines = 15): string {
  try {
    return readFileSync(server.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Polls `path` every 10 ms until it answers 200; returns the milliseconds from `since`. The
 * timeout (BENCH_READY_TIMEOUT_MS, 60 s by default) is for a machine so busy that migrating a
 * fresh database takes longer.
 */
export async function waitUntilOk(
  server: Server,
  urlPath: string,
  since: number,
  timeoutMs = Number(process.env.BENCH_READY_TIMEOUT_MS ?? 60_000),
): Promise<number> {
  let exitCode: number | null | undefined;
  void server.exited.then((code) => {
    exitCode = code;
  });
  while (performance.now() - since < timeoutMs) {
    if (exitCode !== undefined) {
      throw new Error(`${server.name} exited with ${exitCode}:\n${logTail(server)}`);
    }
    try {
      const response = await fetch(server.url + urlPath, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error(`${server.name} not ready after ${timeoutMs} ms:\n${logTail(server)}`);
}

/** SIGTERM (a graceful close), then SIGKILL if it is still there after the grace period. */
export async function stop(server: Server, graceMs = 12_000): Promise<void> {
  if (!children.has(server.child)) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  const running = [...children];
  for (const child of running) child.kill('SIGTERM');
  await sleep(50);
  const deadline = Date.now() + 12_000;
  while (children.size > 0 && Date.now() < deadline) await sleep(50);
  for (const child of children) child.kill('SIGKILL');
}

/** Resident set size of a process in MB, from /proc (Linux); undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** RSS of a process and its descendants (a WEB_CONCURRENCY=2 server's primary and workers). */
export function treeRssMb(pid: number): number {
  return processTree(pid).reduce((sum, member) => sum + (rssMb(member) ?? 0), 0);
}

/** Samples the RSS of a process and its descendants every `everyMs` and keeps the peak. */
export function rssSampler(pid: number, everyMs = 200) {
  let peak = treeRssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRssMb(pid));
  }, everyMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, treeRssMb(pid));
    },
  };
}
