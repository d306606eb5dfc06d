// What PostgreSQL semantics survive PGlite's one backend multiplexed by pglite-socket?
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

const db = await PGlite.create();
const server = new PGLiteSocketServer({ db, port: 0, maxConnections: 4 });
await server.start();
const url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
const connect = async () => {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
};
const withTimeout = (p, ms, label) =>
  Promise.race([p, new Promise((r) => setTimeout(() => r(`${label}: no answer in ${ms} ms`), ms))]);
const out = {};
const a = await connect();
const b = await connect();

// 1. LISTEN on a, NOTIFY from b: does a hear it without sending a query itself?
let heard = null;
a.on('notification', (n) => {
  heard = n.payload;
});
await a.query('listen jobs');
await b.query(`notify jobs, 'hello'`);
await new Promise((r) => setTimeout(r, 500));
out.notifyReachesOtherConnection = heard === 'hello';
await a.query('select 1');
out.notifyAfterListenerQueries = heard === 'hello';

// 2. Session advisory lock taken by a: can b take it too?
out.lockByA = (await a.query('select pg_try_advisory_lock(42) as ok')).rows[0].ok;
out.lockAlsoByB = (await b.query('select pg_try_advisory_lock(42) as ok')).rows[0].ok;

// 3. SET on a visible on b?
await a.query(`set application_name = 'from-a'`);
out.sessionSettingSharedWithB =
  (await b.query('show application_name')).rows[0].application_name === 'from-a';

// 4. a holds a transaction open: does b wait (serialised) or interleave?
await a.query('create table t (v int)');
await a.query('begin');
await a.query('insert into t values (1)');
const bResult = await withTimeout(
  b.query('select count(*)::int as n from t').then((r) => r.rows[0].n),
  1500,
  'b blocked',
);
out.otherConnectionDuringOpenTransaction = bResult;

// 5. The in-process API while a socket client holds a transaction open.
const inProcess = await withTimeout(
  db.query('insert into t values (2)').then(() => 'ran'),
  1500,
  'in-process query blocked',
);
out.inProcessQueryDuringSocketTransaction = inProcess;
await a.query('rollback');
out.rowsAfterSocketRollback = (await db.query('select count(*)::int as n from t')).rows[0].n;
await new Promise((r) => setTimeout(r, 200));
out.rowsAfterEverythingSettled = (await db.query('select count(*)::int as n from t')).rows[0].n;

// 6. Named prepared statements with one name from two connections.
try {
  await a.query({ name: 'stmt', text: 'select 1 as x' });
  await b.query({ name: 'stmt', text: 'select 2 as x' });
  out.samePreparedNameOnTwoConnections = 'ok';
} catch (error) {
  out.samePreparedNameOnTwoConnections = error.message;
}

// 7. A fifth connection when maxConnections is 4.
const extra = [await connect(), await connect()];
try {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await withTimeout(c.connect(), 1500, 'connect');
  out.fifthConnection = (await withTimeout(c.query('select 1'), 1500, 'query')).rows ? 'ok' : 'x';
} catch (error) {
  out.fifthConnection = error.message;
}
console.log(JSON.stringify(out));
for (const c of [a, b, ...extra]) c.end().catch(() => {});
process.exit(0);
