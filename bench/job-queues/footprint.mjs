// Settled RSS of a process with a pg pool, plus pg-boss or graphile-worker started on an installed schema.
import pg from 'pg';

const [mode, url] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 4 });
await pool.query('select 1');
let stop = async () => {};
if (mode === 'pgboss') {
  const { PgBoss } = await import('pg-boss');
  const boss = new PgBoss({ connectionString: url, max: 4 });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('q');
  await boss.work('q', async () => {});
  stop = () => boss.stop({ graceful: false });
} else if (mode === 'graphile') {
  const { run, Logger } = await import('graphile-worker');
  const runner = await run({
    pgPool: pool,
    taskList: { q: async () => {} },
    noHandleSignals: true,
    logger: new Logger(() => () => {}),
  });
  stop = () => runner.stop();
} else {
  const timer = setInterval(() => pool.query('select 1'), 2000);
  stop = async () => clearInterval(timer);
}
await new Promise((r) => setTimeout(r, 8000));
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 500));
const m = process.memoryUsage();
console.log(
  JSON.stringify({
    mode,
    rssMB: Math.round(m.rss / 1048576),
    heapUsedMB: Math.round(m.heapUsed / 1048576),
  }),
);
await stop();
await pool.end();
process.exit(0);
