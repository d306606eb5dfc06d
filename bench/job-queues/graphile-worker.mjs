// graphile-worker 0.18 against PostgreSQL, or against PGlite served over @electric-sql/pglite-socket
// (graphile-worker needs pg connections; it has no in-process PGlite adapter).
// Usage: node graphile-worker.mjs postgres | node graphile-worker.mjs pglite-socket <maxConnections>
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { freshPgDatabase, idleCpu, ms, queryLatency, report, rss, until } from './common.mjs';

const mode = process.argv[2];
const maxConnections = Number(process.argv[3] ?? 4);
const onSocket = mode === 'pglite-socket';
const result = { library: 'graphile-worker', mode, rssBaseline: rss() };
if (onSocket) result.maxConnections = maxConnections;

let t = performance.now();
const { run, runMigrations, makeWorkerUtils, Logger } = await import('graphile-worker');
result.importMs = ms(t);
result.rssAfterImport = rss();

let url;
let cleanup = async () => {};
if (onSocket) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  t = performance.now();
  const db = await PGlite.create();
  result.pgliteCreateMs = ms(t);
  const server = new PGLiteSocketServer({ db, port: 0, maxConnections });
  await server.start();
  url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
  result.rssAfterPglite = rss();
  cleanup = async () => {
    await server.stop();
    await db.close();
  };
} else {
  const fresh = await freshPgDatabase('bench_graphile');
  url = fresh.url;
  cleanup = () => fresh.drop();
}
// The app's pool; on the socket, every connection counts against maxConnections.
const pool = new pg.Pool({ connectionString: url, max: onSocket ? 1 : 10 });
pool.on('error', () => {});
await pool.query('create table done (job_id text not null, worker text not null)');
result.appQueryIdle = await queryLatency(() => pool.query('select 1'));

const workerPool = new pg.Pool({
  connectionString: url,
  max: onSocket ? Math.max(1, maxConnections - 2) : 4,
});
workerPool.on('error', () => {});
workerPool.on('connect', (client) => client.on('error', () => {}));

t = performance.now();
try {
  await runMigrations({ pgPool: workerPool });
} catch (error) {
  result.migrateError = error.message;
  report(result);
  process.exit(0);
}
result.migrateFreshMs = ms(t);
result.schemaTables = (
  await pool.query(`select count(*)::int as n from pg_tables where schemaname = 'graphile_worker'`)
).rows[0].n;

const count = async (task) =>
  (
    await pool.query(
      'select count(*)::int as n from graphile_worker.jobs where task_identifier = $1',
      [task],
    )
  ).rows[0].n;

// Atomic with the caller's transaction: add_job is a SQL function. (The client is released before
// counting: on the socket a second connection would wait for the open transaction forever.)
let client = await pool.connect();
await client.query('begin');
await client.query(`select graphile_worker.add_job('tx', '{}'::json)`);
await client.query('rollback');
client.release();
const afterRollback = await count('tx');
client = await pool.connect();
await client.query('begin');
await client.query(`select graphile_worker.add_job('tx', '{}'::json)`);
await client.query('commit');
client.release();
result.txRollbackLeavesNoJob = afterRollback === 0 && (await count('tx')) === 1;

// Idempotent scheduling by job key.
const utils = await makeWorkerUtils({ pgPool: workerPool });
const runAt = new Date(Date.now() + 3600_000);
await utils.addJob('keyed', {}, { jobKey: 'booking-1', jobKeyMode: 'preserve_run_at', runAt });
await utils.addJob('keyed', {}, { jobKey: 'booking-1', jobKeyMode: 'preserve_run_at', runAt });
result.jobKeyDedupes = (await count('keyed')) === 1;

let attempts = 0;
const attemptTimes = [];
const taskList = {
  idle: async () => {},
  flaky: async () => {
    attempts++;
    attemptTimes.push(performance.now());
    if (attempts < 2) throw new Error('not yet');
  },
  bulk: async (_payload, helpers) => {
    await helpers.withPgClient((c) =>
      c.query('insert into done (job_id, worker) values ($1, $2)', [helpers.job.id, 'w']),
    );
  },
};
const quiet = new Logger(() => () => {});
const options = {
  taskList,
  concurrency: 4,
  pollInterval: 500,
  noHandleSignals: true,
  logger: quiet,
};

t = performance.now();
const runner = await run({ pgPool: workerPool, ...options });
result.runnerStartMs = ms(t);
result.rssAfterStart = rss();
result.idleCpuMsPerS = await idleCpu(5);
result.appQueryWhileWorkerIdle = await queryLatency(() => pool.query('select 1'));

// LISTEN/NOTIFY should wake the worker well before its 500 ms poll.
const pickups = [];
for (let i = 0; i < 5; i++) {
  t = performance.now();
  await pool.query(`select graphile_worker.add_job('idle', '{}'::json)`);
  await until(async () => (await count('idle')) === 0, 20_000, 5);
  pickups.push(ms(t));
}
result.pickupMs = pickups;

await utils.addJob('flaky', {});
result.retrySucceedsAfterMs = await until(
  async () => attempts >= 2 && (await count('flaky')) === 0,
  60_000,
);
result.retryGapsMs = attemptTimes.slice(1).map((x, i) => Math.round(x - attemptTimes[i]));

const N = 500;
t = performance.now();
await utils.addJobs(Array.from({ length: N }, () => ({ identifier: 'bulk', payload: {} })));
result.insertMsFor500 = ms(t);
let second;
if (!onSocket) second = await run({ connectionString: url, ...options });
const latencyDuringDrain = queryLatency(() => pool.query('select 1'), 200);
await until(
  async () =>
    (await pool.query('select count(distinct job_id)::int as n from done')).rows[0].n >= N,
  120_000,
);
result.drainMsFor500 = ms(t);
result.appQueryWhileDraining = await latencyDuringDrain;
result.runs = (
  await pool.query('select count(*)::int as runs, count(distinct job_id)::int as jobs from done')
).rows[0];
result.rssAfterWork = rss();
t = performance.now();
await runner.stop();
if (second) await second.stop();
result.stopMs = ms(t);
await utils.release();
report(result);
process.on('uncaughtException', () => {});
await workerPool.end().catch(() => {});
await pool.end().catch(() => {});
await cleanup().catch(() => {});
process.exit(0);
