import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { type Database, pgliteDatabase, postgresDatabase } from '../../src/db/client.js';
import { ManualClock } from '../../src/lib/clock.js';
import { testConfig } from './config.js';
import { onPostgres, postgresDatabaseUrl, sharedDatabase } from './databases.js';
import { capturingLogger } from './logs.js';
import { Mailbox } from './mailbox.js';

export interface TestContext {
  app: App;
  config: Config;
  database: Database;
  /** The PostgreSQL URL of this app's database; undefined on PGlite. */
  databaseUrl: string | undefined;
  clock: ManualClock;
  mailbox: Mailbox;
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  /** Use an existing database (e.g. a second instance sharing the first one's). */
  database?: Database;
  /** Connect a pool of this app's own to an existing PostgreSQL database (another instance). */
  databaseUrl?: string;
  logger?: Logger;
  /** Skip the SMTP server: mail goes to the outbox folder. */
  noSmtp?: boolean;
  /** Test-only routes, registered after the app's own (with every plugin's hooks) before ready. */
  routes?: (app: FastifyInstance) => Promise<unknown> | unknown;
}

/** A fresh, migrated database of this test file's own: a clone on PostgreSQL, or a PGlite copy. */
export async function freshDatabase(
  config: Config,
  logger: Logger,
): Promise<{ database: Database; url?: string; drop(): Promise<void> }> {
  if (onPostgres) {
    const clone = await postgresDatabaseUrl();
    return {
      database: postgresDatabase(config, logger, clone.url),
      url: clone.url,
      drop: clone.drop,
    };
  }
  const snapshot = inject('pgliteSnapshot');
  if (!snapshot) throw new Error('global setup provided no database snapshot');
  const client = await PGlite.create({ loadDataDir: new Blob([readFileSync(snapshot)]) });
  return { database: await pgliteDatabase(client), drop: async () => {} };
}

/** Builds the real app, as production does, on a database of its own and a real SMTP server. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestContext> {
  const mailbox = new Mailbox();
  if (!options.noSmtp) await mailbox.start();
  const config = testConfig({ SMTP_URL: options.noSmtp ? undefined : mailbox.url, ...options.env });
  const captured = capturingLogger();
  const logger = options.logger ?? captured.logger;
  const fresh = options.databaseUrl
    ? {
        database: postgresDatabase(config, logger, options.databaseUrl),
        url: options.databaseUrl,
        drop: async () => {},
      }
    : options.database
      ? { database: options.database, drop: async () => {} }
      : await freshDatabase(config, logger);
  const clock = new ManualClock();
  const app = await buildApp(config, { database: fresh.database, clock, logger });
  if (options.routes) await options.routes(app as unknown as FastifyInstance);
  await app.ready();
  await app.untilStarted();
  return {
    app,
    config,
    database: fresh.database,
    databaseUrl: 'url' in fresh ? fresh.url : undefined,
    clock,
    mailbox,
    logs: captured.lines,
    async close() {
      await app.close();
      await fresh.drop();
      if (!options.noSmtp) await mailbox.stop();
    },
  };
}

/**
 * A second instance of the app on the first one's database: its own pool of the same PostgreSQL
 * database, or the same embedded PGlite (which one process cannot open twice).
 */
export function createSecondInstance(
  first: TestContext,
  options: Omit<TestAppOptions, 'database' | 'databaseUrl'> = {},
): Promise<TestContext> {
  return createTestApp({
    ...options,
    ...(onPostgres
      ? { databaseUrl: first.databaseUrl }
      : { database: sharedDatabase(first.database) }),
  });
}
