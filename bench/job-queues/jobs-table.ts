// The chosen queue (src/jobs) measured like the libraries: start, a pass with nothing due,
// 500 jobs drained, app-query latency meanwhile. Run from the repository root:
//   npx tsx bench/job-queues/jobs-table.ts pglite|postgres
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { type Database, pgliteDatabase, postgresDatabase } from '../../src/db/client.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { insertJob } from '../../src/jobs/repository.js';
import { JobWorker } from '../../src/jobs/worker.js';
import { systemClock } from '../../src/lib/clock.js';
import { testConfig } from '../../test/helpers/config.js';
// @ts-expect-error plain JavaScript helpers shared with the library measurements
import { freshPgDatabase, idleCpu, ms, queryLatency, rss } from './common.mjs';

const mode = process.argv[2] ?? 'pglite';
const logger = pino({ level: 'silent' });
const result: Record<string, unknown> = { queue: 'jobs table (src/jobs)', mode };

let database: Database;
let drop = async () => {};
if (mode === 'postgres') {
  const fresh = await freshPgDatabase('bench_jobs');
  database = postgresDatabase(testConfig(), logger, fresh.url);
  drop = () => fresh.drop();
} else {
  database = await pgliteDatabase(await PGlite.create());
}
let t = performance.now();
await database.migrate();
result.migrateAllMs = ms(t);
const db = database.db;
await db.execute(sql`create table done (job_id uuid not null)`);
result.appQueryIdle = await queryLatency(() => db.execute(sql`select 1`));

let statements = 0;
const registry = new JobRegistry();
registry.define({
  name: 'bulk',
  async run(_payload, job) {
    await db.execute(sql`insert into done (job_id) values (${job.id})`);
  },
});
const worker = new JobWorker({ db, registry, clock: systemClock, logger: logger as never });
result.idleCpuNoWorkerMsPerS = await idleCpu(5);
t = performance.now();
await worker.start();
result.workerStartMs = ms(t);
result.rssAfterStart = rss();

// A pass with nothing due is one claim statement.
const passes: number[] = [];
for (let i = 0; i < 50; i++) {
  const start = performance.now();
  await worker.runDue();
  passes.push(performance.now() - start);
  statements++;
}
passes.sort((a, b) => a - b);
result.emptyPassMs = { p50: +passes[25]!.toFixed(2), p99: +passes[49]!.toFixed(2) };
result.idleStatementsPerMinute = 60_000 / 2_000; // one claim per 2 s poll, whatever the job names
result.idleCpuMsPerS = await idleCpu(5);
result.appQueryWhileWorkerIdle = await queryLatency(() => db.execute(sql`select 1`));

const N = 500;
t = performance.now();
await db.transaction(async (tx) => {
  for (let i = 0; i < N; i++) {
    await insertJob(tx, { name: 'bulk', payload: { i }, runAt: new Date(), maxAttempts: 3 });
  }
});
result.insertMsFor500 = ms(t);
t = performance.now();
const latency = queryLatency(() => db.execute(sql`select 1`), 200);
await worker.runDue();
result.drainMsFor500 = ms(t);
result.appQueryWhileDraining = await latency;
const done = (await db.execute(
  sql`select count(*)::int as runs, count(distinct job_id)::int as jobs from done`,
)) as unknown as { rows: unknown[] };
result.runs = done.rows[0];
await worker.stop();
await database.close();
await drop();
console.log(JSON.stringify(result));
void statements;
process.exit(0);
