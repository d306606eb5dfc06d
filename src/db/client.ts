import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { codeFile } from '../lib/code-files.js';
import { lockDataDir } from './data-dir.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The database as the rest of the app sees it, whichever driver is behind it. */
export interface Database {
  readonly db: Db;
  readonly driver: 'postgres' | 'pglite';
  /** A raw parameterised query for hot paths: a named prepared statement on PostgreSQL. */
  query<T>(name: string, text: string, values: unknown[]): Promise<T[]>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * LISTEN on `channel`: `onMessage` gets each payload NOTIFY'd (by `pg_notify` in a transaction:
   * delivered when it commits, never when it rolls back). On PostgreSQL this is one dedicated
   * connection per call, outside the pool, reconnected after a loss with `onReconnect` called
   * (messages sent while it was down are lost: the caller resynchronises). On PGlite, in process.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Listener>;
  /** Applies pending migrations (serialised across instances on PostgreSQL). */
  migrate(): Promise<void>;
  /** How many committed migrations are not yet applied. */
  pendingMigrations(): Promise<number>;
  close(): Promise<void>;
}

export interface ListenHandlers {
  onMessage(payload: string): void;
  onReconnect?(): void;
}

export interface Listener {
  close(): Promise<void>;
}

/** Only letters, digits and underscores: the channel is an identifier in LISTEN. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** A LISTEN connection of its own, reconnected (1 s, 2 s… up to 10 s apart) after a loss. */
async function postgresListener(
  connectionString: string,
  config: Config,
  logger: Logger,
  channel: string,
  handlers: ListenHandlers,
): Promise<Listener> {
  if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  async function connect(): Promise<void> {
    const next = new pg.Client({
      connectionString,
      connectionTimeoutMillis: config.dbConnectTimeoutMs,
      application_name: 'homefront-listen',
    });
    next.on('notification', (message) => {
      if (message.channel === channel) handlers.onMessage(message.payload ?? '');
    });
    next.on('error', (error) => {
      logger.warn({ err: error }, 'database LISTEN connection lost');
      lost(next);
    });
    next.on('end', () => lost(next));
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    client = next;
    failures = 0;
  }

  function lost(which: pg.Client) {
    if (closed || client !== which) return;
    client = undefined;
    which.end().catch(() => {});
    schedule();
  }

  function schedule() {
    if (closed || retry) return;
    failures += 1;
    retry = setTimeout(
      () => {
        retry = undefined;
        connect().then(
          () => handlers.onReconnect?.(),
          (error) => {
            logger.warn({ err: error }, 'database LISTEN reconnect failed');
            schedule();
          },
        );
      },
      Math.min(1000 * 2 ** (failures - 1), 10_000),
    );
    retry.unref();
  }

  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => {});
    },
  };
}

export const migrationsFolder = fileURLToPath(codeFile('db/migrations'));

function migrationCount(): number {
  const journal = JSON.parse(
    readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8'),
  );
  return journal.entries.length;
}

async function appliedMigrations(db: Db): Promise<number> {
  const result = (await db.execute(
    sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
  )) as unknown as { rows: Array<{ count: number }> };
  return result.rows[0]?.count ?? 0;
}

async function pending(db: Db): Promise<number> {
  try {
    return migrationCount() - (await appliedMigrations(db));
  } catch (error) {
    // undefined_table / invalid_schema_name: nothing has been migrated yet.
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === '42P01' || code === '3F000') return migrationCount();
    throw error;
  }
}

/** Any fixed 64-bit number works; it only has to be the same for every instance of the app. */
const MIGRATION_LOCK_ID = 7_346_221_904;

export function postgresDatabase(
  config: Config,
  logger: Logger,
  connectionString: string,
): Database {
  const pool = new pg.Pool({
    connectionString,
    max: config.dbPoolMax,
    connectionTimeoutMillis: config.dbConnectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: config.dbStatementTimeoutMs,
    query_timeout: config.dbStatementTimeoutMs + 1_000,
    application_name: 'homefront',
  });
  // An idle client losing its connection emits here; without a listener the process would crash.
  pool.on('error', (error) => logger.warn({ err: error }, 'database connection lost'));
  // A client checked out by a transaction has no pool listener; a backend killed mid-transaction
  // would otherwise crash the process with an unhandled 'error' event.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn({ err: error }, 'database connection lost'));
  });
  const db = drizzlePg({ client: pool, schema, casing: 'snake_case' }) as unknown as Db;

  return {
    db,
    driver: 'postgres',
    async query<T>(name: string, text: string, values: unknown[]) {
      const result = await pool.query({ name, text, values });
      return result.rows as T[];
    },
    async ping() {
      await pool.query('select 1');
    },
    listen: (channel, handlers) =>
      postgresListener(connectionString, config, logger, channel, handlers),
    // Its own connection, without the pool's statement and read timeouts: a migration is not a
    // request, and its backfills may take longer than any request may.
    async migrate() {
      const client = new pg.Client({
        connectionString,
        connectionTimeoutMillis: config.dbConnectTimeoutMs,
        application_name: 'homefront-migrate',
      });
      client.on('error', (error) => logger.warn({ err: error }, 'database connection lost'));
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        try {
          await migratePg(drizzlePg({ client, casing: 'snake_case' }), { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
        }
      } finally {
        await client.end();
      }
    },
    pendingMigrations: () => pending(db),
    close: () => pool.end(),
  };
}

/**
 * The embedded database. Its modules are loaded only when it is used, so a service running on
 * PostgreSQL never pays PGlite's memory.
 */
export async function pgliteDatabase(
  client: PGlite,
  onClose: () => void = () => {},
): Promise<Database> {
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
  const db = drizzlePglite({ client, schema, casing: 'snake_case' }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    async query<T>(_name: string, text: string, values: unknown[]) {
      const result = await client.query<T>(text, values);
      return result.rows;
    },
    async ping() {
      await client.query('select 1');
    },
    async listen(channel, handlers) {
      if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
      const unlisten = await client.listen(channel, (payload) => handlers.onMessage(payload));
      return { close: () => unlisten() };
    },
    async migrate() {
      await migratePglite(drizzlePglite({ client, casing: 'snake_case' }), { migrationsFolder });
    },
    pendingMigrations: () => pending(db),
    async close() {
      try {
        await client.close();
      } finally {
        onClose();
      }
    },
  };
}

/**
 * DATABASE_URL set: a node-postgres pool. Unset: the embedded PGlite under DATA_DIR, which this
 * process then owns (lockDataDir) until close() or exit.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) return postgresDatabase(config, logger, config.databaseUrl);
  const lock = lockDataDir(config.dataDir);
  try {
    const dir = path.join(config.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    const template = firstStart(dir) ? pgliteTemplate() : undefined;
    if (template) logger.info('empty data directory: unpacking the migrated template');
    return await pgliteDatabase(await PGlite.create(dir, { loadDataDir: template }), lock.release);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** An initialised PostgreSQL data directory has PG_VERSION; an empty or new one does not. */
const firstStart = (dir: string) => !existsSync(path.join(dir, 'PG_VERSION'));

/**
 * The build's migrated, empty database (scripts/pglite-template.mjs): unpacking it is three times
 * faster than initdb. Absent when running from source; PGlite then runs initdb as usual.
 */
function pgliteTemplate(): Blob | undefined {
  const file = fileURLToPath(codeFile('db/pglite-template.tar.gz'));
  if (!existsSync(file)) return undefined;
  return new Blob([readFileSync(file)], { type: 'application/x-gzip' });
}
