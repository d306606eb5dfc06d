// In process, PGlite serialises: a query from outside an open transaction waits for it (and is not swallowed by it).
import { PGlite } from '@electric-sql/pglite';

const db = await PGlite.create();
await db.exec('create table t (v int)');
const out = {};
const tx = db.transaction(async (tx) => {
  await tx.query('insert into t values (1)');
  await new Promise((r) => setTimeout(r, 300));
  await tx.rollback();
});
await new Promise((r) => setTimeout(r, 50));
const start = performance.now();
await db.query('insert into t values (2)');
out.outsideQueryWaitedMs = Math.round(performance.now() - start);
await db.exec('begin; insert into t values (3); commit;');
await tx.catch(() => {});
out.rows = (await db.query('select array_agg(v order by v) as v from t')).rows[0].v;
console.log(JSON.stringify(out));
