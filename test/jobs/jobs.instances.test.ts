import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres } from '../helpers/databases.js';
import { defineRecorder, jobRows, type Run } from './support.js';

/** Two instances of the service on one PostgreSQL database share one queue and run a job once. */
describe.skipIf(!onPostgres)('two instances on one database (PostgreSQL only)', () => {
  let a: TestContext;
  let b: TestContext;
  beforeAll(async () => {
    a = await createTestApp({ noSmtp: true });
    b = await createTestApp({ noSmtp: true, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('run each of 60 jobs exactly once between them', async () => {
    const runs: Run[] = [];
    // Each run holds its claim for a moment in the database, so the two claim side by side.
    for (const [t, by] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      defineRecorder(t, 'test.shared', {
        runs,
        by,
        behave: async () => {
          await t.app.db.execute(sql`select pg_sleep(0.02)`);
        },
      });
    }
    await a.app.db.transaction(async (tx) => {
      for (let i = 0; i < 60; i++) await a.app.jobs.schedule(tx, 'test.shared', { i });
    });
    await Promise.all([a.app.jobs.runDue(), b.app.jobs.runDue()]);
    await Promise.all([a.app.jobs.runDue(), b.app.jobs.runDue()]);

    expect(runs).toHaveLength(60);
    expect(new Set(runs.map((run) => run.job.id)).size).toBe(60);
    expect(new Set(runs.map((run) => run.payload.i)).size).toBe(60);
    expect(runs.some((run) => run.by === 'a') && runs.some((run) => run.by === 'b')).toBe(true);
    const rows = await jobRows(a, 'test.shared');
    expect(rows.every((row) => row.state === 'done' && row.attempts === 1)).toBe(true);
  });

  it('agree on the periodic jobs: one row per interval, whoever started first', async () => {
    const rows = await jobRows(a, 'retention');
    const keys = rows.map((row) => row.key);
    expect(rows.filter((row) => row.state === 'pending')).toHaveLength(1);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
