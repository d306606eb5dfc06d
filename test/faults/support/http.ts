import { delay, now } from '../../helpers/net.js';

export interface Answer {
  /** 0 when no HTTP answer came (connection refused, reset, timeout). */
  status: number;
  body: unknown;
  /** `code` of a problem+json body, if any. */
  code: string | undefined;
  ms: number;
  error?: string;
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** One HTTP call that never throws: failures to get an answer come back as status 0. */
export async function call(
  base: string,
  method: string,
  route: string,
  options: CallOptions = {},
): Promise<Answer> {
  const started = now();
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  try {
    const response = await fetch(`${base}${route}`, {
      method,
      headers,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON; keep the text
    }
    const code = body && typeof body === 'object' && 'code' in body ? String(body.code) : undefined;
    return { status: response.status, body, code, ms: now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return {
      status: 0,
      body: undefined,
      code: undefined,
      ms: now() - started,
      error: cause?.code ?? cause?.message ?? (error as Error).message,
    };
  }
}

export async function login(base: string, email: string, password: string): Promise<string> {
  const answer = await call(base, 'POST', '/auth/login', { body: { email, password } });
  if (answer.status !== 200) {
    throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return (answer.body as { access_token: string }).access_token;
}

export interface Sample extends Answer {
  label: string;
  start: number;
  end: number;
}

/**
 * A load loop: each worker repeats its request back to back until stopped. Every answer is kept
 * as a sample; `until` resolves on the first sample (past or future) that matches, so tests await
 * the event rather than sleep.
 */
export class LoadLoop {
  readonly samples: Sample[] = [];
  private stopped = false;
  private running: Promise<void>[] = [];
  private waiters: Array<{ match: (sample: Sample) => boolean; resolve: (s: Sample) => void }> = [];

  constructor(private readonly workers: Array<{ label: string; request: () => Promise<Answer> }>) {}

  start(): void {
    this.running = this.workers.map(async ({ label, request }) => {
      while (!this.stopped) {
        const start = now();
        const answer = await request();
        this.record({ ...answer, label, start, end: now() });
        // An immediate refusal would spin: pause briefly after one, else just yield.
        if (answer.status === 0) await delay(20);
        else await new Promise((resolve) => setImmediate(resolve));
      }
    });
  }

  private record(sample: Sample) {
    this.samples.push(sample);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(sample)) return true;
      waiter.resolve(sample);
      return false;
    });
  }

  /** The first sample matching `match`, waiting up to `timeoutMs` for one to arrive. */
  until(match: (sample: Sample) => boolean, timeoutMs: number, what: string): Promise<Sample> {
    const found = this.samples.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (sample: Sample) => {
          clearTimeout(timer);
          resolve(sample);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${what}: no such answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits until `count` samples match. */
  async untilCount(
    match: (sample: Sample) => boolean,
    count: number,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    let seen = 0;
    await this.until(
      (sample) => match(sample) && ++seen >= count,
      timeoutMs,
      `${what} (${count} answers)`,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }
}

/** Count of answers per "label status code" key, for the report. */
export function tally(answers: Array<Answer & { label?: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = [answer.label, answer.status, answer.code, answer.error]
      .filter((part) => part !== undefined)
      .join(' ');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
