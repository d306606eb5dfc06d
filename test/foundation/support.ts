import { request as httpRequest } from 'node:http';
import { type App, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { ManualClock } from '../../src/lib/clock.js';
import { freshDatabase } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import { capturingLogger } from '../helpers/logs.js';
import type { Answer } from '../helpers/problems.js';

export type { Answer } from '../helpers/problems.js';
export { expectProblem } from '../helpers/problems.js';

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
