import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database } from '../../src/db/client.js';

/**
 * Whether this run uses a real PostgreSQL rather than PGlite: TEST_DATABASE_URL is set and the
 * global setup migrated a template from it. The one rule every PostgreSQL-only test goes by.
 */
export const onPostgres = Boolean(process.env.TEST_DATABASE_URL && inject('pgTemplate'));

/** Appended to the name of a test that only means something on PostgreSQL. */
export const POSTGRES_ONLY = onPostgres
  ? '(PostgreSQL)'
  : '(skipped: needs PostgreSQL, set TEST_DATABASE_URL)';

/**
 * A new database on `base`'s server, named `prefix` and random hex, empty or cloned from
 * `template`: its URL, and `drop` to remove it.
 */
export async function createPostgresDatabase(
  base: string,
  prefix: string,
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
  const target = new URL(base);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * A migrated PostgreSQL database of the caller's own, cloned from the run's template: its URL,
 * for one pool, several, or another process, and `drop` to remove it.
 */
export async function postgresDatabaseUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  const template = inject('pgTemplate');
  if (!base || !template) throw new Error('postgresDatabaseUrl needs TEST_DATABASE_URL');
  return createPostgresDatabase(base, 'homefront_test', template);
}

/**
 * The same database for a second app instance. Closing an app closes its database; this view
 * leaves that to the first instance, so the two can be closed in any order.
 */
export function sharedDatabase(database: Database): Database {
  return { ...database, close: async () => {} };
}
