// pg-boss idle footprint on PGlite: statements issued and connection time held while nothing is queued,
// with the TestClock: can a test move time and run a due job at once?
import { PGlite } from '@electric-sql/pglite';
import { idleCpu, ms, rss } from './common.mjs';

const seconds = Number(process.argv[2] ?? 30);
const out = {};
const db = await PGlite.create();
await db.query('select 1');
out.rssPglite = rss();
out.idleCpuNoBossMsPerS = await idleCpu(5);
let t = performance.now();
const { PgBoss, fromPglite, TestClock } = await import('pg-boss');
out.importMs = ms(t);
out.rssAfterImport = rss();
const adapter = fromPglite(db);
let statements = 0;
let heldMs = 0;
let longest = 0;
const counted = {
  ...adapter,
  async executeSql(text, values) {
    const start = performance.now();
    try {
      return await adapter.executeSql(text, values);
    } finally {
      const d = performance.now() - start;
      statements++;
      heldMs += d;
      longest = Math.max(longest, d);
    }
  },
};
const boss = new PgBoss({ db: counted, backend: 'pglite' });
boss.on('error', (e) => console.error(e.message));
t = performance.now();
await boss.start();
out.startFreshMs = ms(t);
out.rssAfterStart = rss();
await boss.createQueue('timer');
await boss.work('timer', async () => {});
statements = 0;
heldMs = 0;
longest = 0;
out.idleCpuWithBossMsPerS = await idleCpu(seconds);
out.idleStatementsPerMinute = Math.round((statements * 60) / seconds);
out.idleConnectionHeldMsPerMinute = Math.round((heldMs * 60) / seconds);
out.longestIdleStatementMs = Math.round(longest);
await boss.stop({ graceful: false, close: false });

// TestClock: schedule 14 days ahead, jump, fetch.
const clock = new TestClock(Date.now());
const tb = new PgBoss({
  db: fromPglite(db),
  backend: 'pglite',
  clock,
  supervise: false,
  schedule: false,
});
await tb.start();
await tb.createQueue('expire');
await tb.send('expire', { id: 1 }, { startAfter: new Date(clock.now() + 14 * 86400_000) });
out.fetchBeforeDue = (await tb.fetch('expire')).length;
await clock.setTime(clock.now() + 14 * 86400_000 + 1000);
out.fetchAfterJump = (await tb.fetch('expire')).length;
await tb.stop({ graceful: false, close: false });
console.log(JSON.stringify(out));
process.exit(0);
