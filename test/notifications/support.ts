import type { AddressInfo } from 'node:net';
import type { TestContext } from '../helpers/app.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Where a test app listens for real HTTP (port 0: the system picks one). */
export async function listen(t: TestContext): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

const BOUND_MS = 5000;

/**
 * A client of GET /notifications/stream over real HTTP (fetch), parsing the event stream as it
 * arrives. `next()` waits (bounded) for the next event; `ended` settles when the server ends it.
 */
export class StreamClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private waiters: Array<() => void> = [];
  private consumed = 0;
  ended = false;
  status = 0;
  headers = new Headers();
  private readonly controller = new AbortController();
  private endedPromise!: Promise<void>;

  static async open(
    baseUrl: string,
    token: string,
    extra: Record<string, string> = {},
  ): Promise<StreamClient> {
    const client = new StreamClient();
    const res = await fetch(`${baseUrl}/notifications/stream`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...extra },
      signal: client.controller.signal,
    });
    client.status = res.status;
    client.headers = res.headers;
    if (!res.body) throw new Error('no body');
    client.endedPromise = client.read(res.body);
    if (res.status === 200)
      await client.waitFor(
        () => client.comments.length + client.events.length > 0 || client.sawRetry,
      );
    return client;
  }

  sawRetry = false;
  body = '';

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        const text = decoder.decode(chunk, { stream: true });
        this.body += text;
        buffer += text;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        this.wake();
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private parse(block: string) {
    const event: SseEvent = { data: '' };
    let isEvent = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('retry:')) this.sawRetry = true;
      else {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.data += value;
        isEvent = true;
      }
    }
    if (isEvent) this.events.push(event);
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolves when `condition` holds, re-checked on every chunk; fails after a bound. */
  async waitFor(condition: () => boolean, what = 'the stream', boundMs = BOUND_MS): Promise<void> {
    const deadline = Date.now() + boundMs;
    while (!condition()) {
      if (this.ended && !condition()) throw new Error(`${what}: the stream ended first`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${what}: not within ${boundMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next event not yet taken. */
  async next(): Promise<SseEvent & { json: Record<string, unknown> }> {
    await this.waitFor(() => this.events.length > this.consumed, 'the next event');
    const event = this.events[this.consumed++] as SseEvent;
    return { ...event, json: JSON.parse(event.data) };
  }

  /** Resolves with the ms it took the server to end the stream; fails after the bound. */
  async endsWithin(boundMs: number): Promise<number> {
    const started = Date.now();
    await this.waitFor(() => this.ended, 'the end of the stream', boundMs);
    await this.endedPromise;
    return Date.now() - started;
  }

  close() {
    this.controller.abort();
    return this.endedPromise.catch(() => {});
  }
}

/** Writes a notification for `userId` as another module would: in a transaction of its own. */
export async function notify(
  t: TestContext,
  userId: string,
  title = 'Something happened',
  kind: 'booking.updated' | 'message.received' | 'quote.received' = 'booking.updated',
) {
  return t.app.db.transaction((tx) =>
    t.app.notifications.notify(tx, { userId, kind, title, body: `${title}: the details` }),
  );
}
