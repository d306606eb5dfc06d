// pg-boss on PGlite with 6 queues (what issues 16/17 + mail + retention add up to): idle statements and pickup.
import { PGlite } from '@electric-sql/pglite';
import { fromPglite, PgBoss } from 'pg-boss';
import { idleCpu, until } from './common.mjs';

const notify = process.argv[2] === 'notify';
const seconds = Number(process.argv[3] ?? 30);
const db = await PGlite.create();
const adapter = fromPglite(db);
let statements = 0;
let heldMs = 0;
const counted = {
  ...adapter,
  async executeSql(text, values) {
    const s = performance.now();
    try {
      return await adapter.executeSql(text, values);
    } finally {
      statements++;
      heldMs += performance.now() - s;
    }
  },
};
const boss = new PgBoss({ db: counted, backend: 'pglite', useListenNotify: notify });
boss.on('error', (e) => console.error(e.message));
await boss.start();
const names = [
  'request.expire',
  'quote.expire',
  'booking.autoconfirm',
  'review.publish',
  'mail.deliver',
  'retention',
];
let ran = 0;
for (const name of names) {
  await boss.createQueue(name);
  await boss.work(name, async () => {
    ran++;
  });
}
statements = 0;
heldMs = 0;
const cpu = await idleCpu(seconds);
const out = {
  notify,
  idleCpuMsPerS: cpu,
  idleStatementsPerMinute: Math.round((statements * 60) / seconds),
  heldMsPerMinute: Math.round((heldMs * 60) / seconds),
};
const pickups = [];
for (let i = 0; i < 5; i++) {
  const before = ran;
  const s = performance.now();
  await boss.send('booking.autoconfirm', {});
  await until(() => ran > before, 20000, 2);
  pickups.push(Math.round(performance.now() - s));
}
out.pickupMs = pickups;
console.log(JSON.stringify(out));
await boss.stop({ graceful: false, close: false });
process.exit(0);
