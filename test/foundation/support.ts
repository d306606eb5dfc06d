import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { ManualClock } from '../../src/lib/clock.js';
import { freshDatabase } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import { capturingLogger } from '../helpers/logs.js';

/**
 * Foundation tests need routes that no module offers (one that throws, one that waits for the
 * test): they build the real app with buildApp, exactly as production does, and add throwaway
 * routes before it is ready.
 */
export interface BuiltApp {
  app: App;
  config: Config;
  database: Database;
  logs: string[];
  close(): Promise<void>;
}

export async function buildAppWith(
  addRoutes: (app: App) => void | Promise<void>,
  env: Record<string, string | undefined> = {},
): Promise<BuiltApp> {
  const config = testConfig(env);
  const { logger, lines } = capturingLogger();
  const fresh = await freshDatabase(config, logger);
  const app = await buildApp(config, {
    database: fresh.database,
    clock: new ManualClock(),
    logger,
  });
  await addRoutes(app);
  await app.ready();
  await app.untilStarted();
  return {
    app,
    config,
    database: fresh.database,
    logs: lines,
    async close() {
      await app.close();
      await fresh.drop();
    },
  };
}

/** What a test needs from a response, whether it came from inject or over a socket. */
export interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders | Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Asserts an RFC 9457 problem+json answer with the given status and stable code. */
export function expectProblem(res: Answer, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    requestId: res.headers['x-request-id'],
  });
  expect(body).not.toHaveProperty('stack');
  expect(res.body).not.toMatch(/\n\s+at /);
  return body;
}

/**
 * One HTTP request on a connection of its own (no keep-alive pool), so a test knows which
 * connection it is talking on. Rejects with the socket error (e.g. ECONNREFUSED).
 */
export function httpGet(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A promise with its resolve function, for a test that decides when something happens. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
