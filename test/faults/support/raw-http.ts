import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { within } from '../../helpers/net.js';
import { parseHttpResponse as parse, type RawResponse } from '../../helpers/raw.js';

export type { RawResponse };

/**
 * An HTTP/1.1 request written by hand on its own TCP socket, so a test controls exactly when each
 * byte leaves: headers first (with `Expect: 100-continue`, whose interim answer proves the server
 * has parsed them and started the request), then the body in parts.
 */
export class RawRequest {
  private buffer = Buffer.alloc(0);
  private closed = false;
  private sent = 0;
  private readonly changed: Array<() => void> = [];

  private constructor(
    private readonly socket: Socket,
    private readonly body: Buffer,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static async open(
    port: number,
    method: string,
    route: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<RawRequest> {
    const socket = connect(port, '127.0.0.1');
    await within(once(socket, 'connect'), 5_000, 'connecting to the app');
    const payload = Buffer.from(JSON.stringify(body));
    const head = [
      `${method} ${route} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Content-Type: application/json',
      `Content-Length: ${payload.length}`,
      'Expect: 100-continue',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head);
    const request = new RawRequest(socket, payload);
    await request.waitFor(
      () => request.buffer.includes('HTTP/1.1 100 Continue\r\n\r\n'),
      5_000,
      'the 100 Continue that shows the server has started the request',
    );
    request.buffer = request.buffer.subarray(
      request.buffer.indexOf('HTTP/1.1 100 Continue\r\n\r\n') + 25,
    );
    return request;
  }

  private notify() {
    for (const listener of this.changed.splice(0)) listener();
  }

  private async waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const check = async () => {
      while (!done()) {
        if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
        await new Promise<void>((resolve) => this.changed.push(resolve));
      }
    };
    await within(check(), timeoutMs, `waiting for ${what}`);
  }

  /** Writes the first `fraction` of the body. */
  sendPart(fraction: number): void {
    this.socket.write(this.body.subarray(0, Math.floor(this.body.length * fraction)));
    this.sent = Math.floor(this.body.length * fraction);
  }

  /** Writes the rest of the body and reads the complete response (Content-Length framed). */
  async finish(timeoutMs = 10_000): Promise<RawResponse> {
    this.socket.write(this.body.subarray(this.sent));
    let parsed: RawResponse | undefined;
    await this.waitFor(
      () => {
        parsed = parse(this.buffer);
        return parsed !== undefined;
      },
      timeoutMs,
      'the complete response',
    );
    if (!parsed) throw new Error('no response');
    return parsed;
  }

  /** Resolves when the server closes the connection (or after timeoutMs, with false). */
  async closedByServer(timeoutMs: number): Promise<boolean> {
    try {
      await this.waitFor(() => this.closed, timeoutMs, 'the server closing the connection');
      return true;
    } catch {
      return this.closed;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * What a brand-new connection gets: 'refused' when nothing listens, else the status of a
 * GET `route` sent on it ('closed' if the server hangs up without an answer).
 */
export async function newConnectionOutcome(
  port: number,
  route = '/health/live',
): Promise<'refused' | 'closed' | number> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  try {
    const connected = await within(
      Promise.race([
        once(socket, 'connect').then(
          () => true,
          () => false,
        ),
        once(socket, 'close').then(() => false),
      ]),
      5_000,
      'connecting',
    );
    if (!connected) return 'refused';
    socket.write(`GET ${route} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    let buffer = Buffer.alloc(0);
    const answer = new Promise<RawResponse | undefined>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        const parsed = parse(buffer);
        if (parsed) resolve(parsed);
      });
      socket.once('close', () => resolve(parse(buffer)));
    });
    const response = await within(answer, 5_000, 'an answer on a new connection');
    return response ? response.status : 'closed';
  } finally {
    socket.destroy();
  }
}
