import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { pgliteDatabase, postgresDatabase } from '../../src/db/client.js';
import { testConfig } from './config.js';
import { silentLogger } from './logs.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PostgreSQL: name of a migrated template database each test file clones. */
    pgTemplate: string | null;
    /** PGlite: path of a migrated data directory snapshot each test file loads. */
    pgliteSnapshot: string | null;
  }
}

/**
 * Migrates once per run, then every test file starts from a copy: a PostgreSQL template database
 * when TEST_DATABASE_URL is set, else a PGlite data-directory snapshot.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const template = `homefront_tpl_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${template}`);
    const target = new URL(url);
    target.pathname = `/${template}`;
    const database = postgresDatabase(testConfig(), silentLogger(), target.toString());
    await database.migrate();
    await database.close();
    project.provide('pgTemplate', template);
    project.provide('pgliteSnapshot', null);
    return async () => {
      await admin.query(`drop database if exists ${template} with (force)`);
      await admin.end();
    };
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'homefront-snapshot-'));
  const client = await PGlite.create();
  const database = await pgliteDatabase(client);
  await database.migrate();
  const dump = await client.dumpDataDir('none');
  const file = path.join(dir, 'migrated.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await database.close();
  project.provide('pgTemplate', null);
  project.provide('pgliteSnapshot', file);
  return () => rmSync(dir, { recursive: true, force: true });
}
