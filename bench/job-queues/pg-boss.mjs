// pg-boss 12 against PostgreSQL (its own pool) or PGlite (in process: fromPglite + backend "pglite").
// Usage: node pg-boss.mjs postgres|pglite
import { performance } from 'node:perf_hooks';
import { freshPgDatabase, idleCpu, ms, queryLatency, report, rss, until } from './common.mjs';

const mode = process.argv[2];
const result = { library: 'pg-boss', mode, rssBaseline: rss() };

let t = performance.now();
const { PgBoss, fromDrizzle, fromPglite } = await import('pg-boss');
const { sql } = await import('drizzle-orm');
result.importMs = ms(t);
result.rssAfterImport = rss();

let appDb; // the app's own drizzle handle
let bossOptions;
let cleanup = async () => {};
let url;
if (mode === 'pglite') {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  t = performance.now();
  const client = await PGlite.create();
  result.pgliteCreateMs = ms(t);
  result.rssAfterPglite = rss();
  appDb = drizzle({ client });
  bossOptions = { db: fromPglite(client), backend: 'pglite' };
  cleanup = () => client.close();
} else {
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const fresh = await freshPgDatabase('bench_pgboss');
  url = fresh.url;
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  appDb = drizzle({ client: pool });
  bossOptions = { connectionString: url, max: 4 };
  cleanup = async () => {
    await pool.end();
    await fresh.drop();
  };
}
await appDb.execute(sql`create table done (job_id text not null, worker text not null)`);
result.appQueryIdle = await queryLatency(() => appDb.execute(sql`select 1`));

const boss = new PgBoss(bossOptions);
boss.on('error', (e) => console.error('boss error', e.message));
t = performance.now();
await boss.start();
result.startFreshMs = ms(t);
result.rssAfterStart = rss();
const schemaTables = await appDb.execute(
  sql`select count(*)::int as n from pg_tables where schemaname = 'pgboss'`,
);
result.schemaTables = schemaTables.rows[0].n;
const fns = await appDb.execute(
  sql`select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'pgboss'`,
);
result.schemaFunctions = fns.rows[0].n;

await boss.createQueue('timer', {
  retryLimit: 3,
  retryDelay: 1,
  retryBackoff: true,
  policy: 'standard',
});

// Idle cost: one queue with a worker, nothing to do.
await boss.work('timer', { pollingIntervalSeconds: 0.5 }, async () => {});
result.idleCpuMsPerS = await idleCpu(5);
result.appQueryWhileWorkerIdle = await queryLatency(() => appDb.execute(sql`select 1`));
await boss.offWork('timer');

// Atomic with the caller's transaction.
const count = async (name) =>
  (await appDb.execute(sql`select count(*)::int as n from pgboss.job where name = ${name}`)).rows[0]
    .n;
await boss.createQueue('tx');
try {
  await appDb.transaction(async (tx) => {
    await boss.send('tx', { a: 1 }, { db: fromDrizzle(tx, sql) });
    throw new Error('rollback');
  });
} catch {}
const afterRollback = await count('tx');
await appDb.transaction(async (tx) => {
  await boss.send('tx', { a: 1 }, { db: fromDrizzle(tx, sql) });
});
result.txRollbackLeavesNoJob = afterRollback === 0 && (await count('tx')) === 1;

// Idempotent scheduling: one live job per key.
await boss.createQueue('keyed', { policy: 'stately' });
const firstId = await boss.send('keyed', {}, { singletonKey: 'booking-1', startAfter: 3600 });
const secondId = await boss.send('keyed', {}, { singletonKey: 'booking-1', startAfter: 3600 });
result.singletonKeyDedupes = firstId !== null && secondId === null && (await count('keyed')) === 1;

// Retry with backoff after a failing handler.
await boss.createQueue('flaky', { retryLimit: 3, retryDelay: 1, retryBackoff: true });
let attempts = 0;
const attemptTimes = [];
await boss.work('flaky', { pollingIntervalSeconds: 0.5 }, async () => {
  attempts++;
  attemptTimes.push(performance.now());
  if (attempts < 3) throw new Error('not yet');
});
await boss.send('flaky', {});
result.retrySucceedsAfterMs = await until(async () => {
  const rows = (await appDb.execute(sql`select state from pgboss.job where name = 'flaky'`)).rows;
  return rows[0]?.state === 'completed';
});
result.retryGapsMs = attemptTimes.slice(1).map((x, i) => Math.round(x - attemptTimes[i]));
await boss.offWork('flaky');

// Throughput: N jobs, handler records each run.
const N = 500;
await boss.createQueue('bulk');
const jobs = Array.from({ length: N }, (_, i) => ({ data: { i } }));
t = performance.now();
await boss.insert('bulk', jobs);
result.insertMsFor500 = ms(t);
const handler = (worker) => async (batch) => {
  for (const job of batch) {
    await appDb.execute(sql`insert into done (job_id, worker) values (${job.id}, ${worker})`);
  }
};
t = performance.now();
await boss.work('bulk', { pollingIntervalSeconds: 0.5, batchSize: 20 }, handler('a'));
let second;
if (mode === 'postgres') {
  second = new PgBoss({ connectionString: url, max: 4, supervise: false, schedule: false });
  await second.start();
  await second.work('bulk', { pollingIntervalSeconds: 0.5, batchSize: 20 }, handler('b'));
}
const latencyDuringDrain = queryLatency(() => appDb.execute(sql`select 1`), 200);
await until(
  async () =>
    (await appDb.execute(sql`select count(distinct job_id)::int as n from done`)).rows[0].n >= N,
);
result.drainMsFor500 = ms(t);
result.appQueryWhileDraining = await latencyDuringDrain;
const runs = (
  await appDb.execute(
    sql`select count(*)::int as runs, count(distinct job_id)::int as jobs, count(distinct worker)::int as workers from done`,
  )
).rows[0];
result.twoInstances = runs;
result.rssAfterWork = rss();

t = performance.now();
if (second) await second.stop({ graceful: true, close: true });
await boss.stop({ graceful: true, close: mode === 'postgres' });
result.stopMs = ms(t);

// A second start on the installed schema.
const again = new PgBoss(bossOptions);
t = performance.now();
await again.start();
result.startInstalledMs = ms(t);
await again.stop({ graceful: false, close: mode === 'postgres' });

report(result);
process.on('uncaughtException', () => {});
await cleanup().catch(() => {});
process.exit(0);
