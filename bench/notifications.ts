import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import type { Config } from '../src/config.js';
import { postgresDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { AccessTokens } from '../src/modules/auth/tokens.js';
import { DatabaseFanout } from '../src/modules/notifications/fanout.js';
import { NotificationsService } from '../src/modules/notifications/service.js';
import { freePort, logTail, rssMb, start, stopAll, waitUntilOk } from './lib/children.js';
import { databaseUrl, dropDatabase, holdBenchLock, recreateDatabase } from './lib/db.js';
import { logsDir, removeScratch, SECRETS, scratch } from './lib/servers.js';

/**
 * `npm run bench:notifications`: one server (`src/server.ts` through tsx, on a fresh PostgreSQL
 * database) holds 1,000 open notification streams (200 users × 5, read by fetch in this
 * process). This process then writes notifications as another instance would (the service's own
 * notify() in a transaction, through pg_notify), one every 10 ms, and times each one from the
 * start of its write to its receipt by each of the user's 5 streams. Memory per stream is the
 * server's RSS with the streams open minus its RSS before, divided by the number of streams.
 * Results: bench/results/notifications.{json,md}. BENCH_STREAMS and BENCH_WRITES change the sizes.
 */

const STREAMS_PER_USER = 5;
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const USERS = Math.ceil(STREAMS / STREAMS_PER_USER);
const WRITES = Number(process.env.BENCH_WRITES ?? 400);
const WRITE_GAP_MS = 10;
const DB = 'homefront_bench_notify';
const NOTIFY_BENCH_LOCK_ID = 4_811_203_978;
const RESULTS = path.join(process.cwd(), 'bench/results');

const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const median = (values: number[]) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/** Reads one stream; calls `onEvent` with the notification's title and when its event arrived. */
async function openStream(
  baseUrl: string,
  token: string,
  onEvent: (title: string, at: number) => void,
  signal: AbortSignal,
) {
  const res = await fetch(`${baseUrl}/notifications/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  // The first chunk (retry:) says the stream is registered.
  await reader.read();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.now();
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data) onEvent((JSON.parse(data.slice(6)) as { title: string }).title, at);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted at the end
    }
  })();
}

async function main() {
  // Not the main bench's lock: this bench has a database of its own, and a machine shared with
  // other work anyway (the load average goes into the result).
  const release = await holdBenchLock(NOTIFY_BENCH_LOCK_ID);
  await recreateDatabase(DB);
  const url = databaseUrl(DB);
  const port = await freePort();
  const server = start(
    'notifications-server',
    ['--import', 'tsx', path.join(process.cwd(), 'src/server.ts')],
    {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...SECRETS,
      ACCESS_TOKEN_TTL: '3600',
      DATABASE_URL: url,
      DATA_DIR: path.join(scratch(), 'data'),
      RATE_LIMIT_WINDOW: '1',
      RATE_LIMIT_GLOBAL_MAX: '1000000',
      RATE_LIMIT_AUTH_MAX: '100000',
      RATE_LIMIT_LOGIN_FAILURES: '10000',
      NOTIFICATIONS_MAX_STREAMS_PER_USER: String(STREAMS_PER_USER),
    },
    port,
    // The checkout, where tsx resolves (it has no .env: nothing leaks into the child).
    process.cwd(),
    logsDir(),
  );
  const controller = new AbortController();
  const logger = pino({ level: 'warn' });
  const database = postgresDatabase(
    { dbPoolMax: 4, dbConnectTimeoutMs: 5_000, dbStatementTimeoutMs: 30_000 } as Config,
    logger,
    url,
  );
  try {
    await waitUntilOk(server, '/health/ready', performance.now(), 180_000);

    // Users and sessions straight into the database, and access tokens signed with the server's
    // secret: logins (bcrypt, cost 12) on this shared machine would take minutes, and are not
    // what is measured.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ user_id: string; session_id: string }>(
      `with u as (
         insert into users (id, email, full_name, password_hash, email_verified)
         select gen_random_uuid(), 'bench-' || g || '@example.com', 'Bench ' || g, 'x', true
           from generate_series(1, $1::int) g
         returning id)
       insert into sessions (id, user_id, expires_at)
       select gen_random_uuid(), u.id, now() + interval '1 day' from u
       returning user_id, id as session_id`,
      [USERS],
    );
    await client.end();
    const tokens = new AccessTokens(
      { jwtSecret: SECRETS.JWT_SECRET, accessTokenTtl: 3600 } as Config,
      systemClock,
    );
    const users = await Promise.all(
      rows.map(async (row) => ({
        id: row.user_id,
        token: await tokens.sign({ userId: row.user_id, sessionId: row.session_id }),
      })),
    );
    console.log(`${users.length} users signed in`);

    await sleep(2_000);
    const before = median([0, 1, 2].map(() => rssMb(server.pid) ?? 0));

    // title → when each stream received it.
    const received = new Map<string, number[]>();
    const onEvent = (title: string, at: number) => {
      const list = received.get(title) ?? [];
      list.push(at);
      received.set(title, list);
    };
    console.log(`opening ${STREAMS} streams`);
    const openStarted = performance.now();
    const jobs = users
      .flatMap((user) => Array.from({ length: STREAMS_PER_USER }, () => user))
      .slice(0, STREAMS);
    for (let i = 0; i < jobs.length; i += 50) {
      await Promise.all(
        jobs
          .slice(i, i + 50)
          .map((user) => openStream(server.url, user.token, onEvent, controller.signal)),
      );
    }
    const openMs = performance.now() - openStarted;
    await sleep(3_000);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(rssMb(server.pid) ?? 0);
      await sleep(200);
    }
    const after = median(samples);

    // The writer: another instance's notify(), through pg_notify, to the server's LISTEN.
    const notifications = new NotificationsService({
      db: database.db,
      clock: systemClock,
      logger,
      fanout: new DatabaseFanout(database, logger),
      heartbeatMs: 25_000,
      maxStreamsPerUser: STREAMS_PER_USER,
      sessionValid: async () => true,
    });
    const started = new Map<string, number>();
    const committed = new Map<string, number>();
    const perStream = new Map<string, number>();
    for (const user of users) perStream.set(user.id, 0);
    for (const job of jobs) perStream.set(job.id, (perStream.get(job.id) ?? 0) + 1);
    for (let i = 0; i < WRITES; i++) {
      const user = users[i % users.length] as { id: string };
      const title = `bench ${i}`;
      started.set(title, performance.now());
      await database.db.transaction((tx) =>
        notifications.notify(tx, { userId: user.id, kind: 'booking.updated', title, body: 'x' }),
      );
      committed.set(title, performance.now());
      await sleep(WRITE_GAP_MS);
    }
    const expected = [...started.keys()].reduce(
      (sum, title) =>
        sum + (perStream.get(users[Number(title.split(' ')[1]) % users.length]!.id) ?? 0),
      0,
    );
    const deadline = performance.now() + 15_000;
    const count = () => [...received.values()].reduce((sum, list) => sum + list.length, 0);
    while (count() < expected && performance.now() < deadline) await sleep(50);

    const writeToReceipt: number[] = [];
    const commitToReceipt: number[] = [];
    for (const [title, times] of received) {
      const begin = started.get(title);
      const commit = committed.get(title);
      if (begin === undefined || commit === undefined) continue;
      for (const at of times) {
        writeToReceipt.push(at - begin);
        commitToReceipt.push(at - commit);
      }
    }
    writeToReceipt.sort((a, b) => a - b);
    commitToReceipt.sort((a, b) => a - b);
    const summary = (sorted: number[]) => ({
      p50: Number(quantile(sorted, 0.5).toFixed(2)),
      p90: Number(quantile(sorted, 0.9).toFixed(2)),
      p99: Number(quantile(sorted, 0.99).toFixed(2)),
      max: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)),
    });
    const result = {
      date: new Date().toISOString(),
      commit: git('rev-parse', '--short', 'HEAD'),
      node: process.version,
      machine: {
        cpus: os.cpus().length,
        loadAverage: os.loadavg().map((v) => Number(v.toFixed(1))),
      },
      streams: jobs.length,
      users: users.length,
      writes: WRITES,
      writeGapMs: WRITE_GAP_MS,
      receipts: { expected, received: count() },
      openAllMs: Math.round(openMs),
      latencyMs: {
        writeToReceipt: summary(writeToReceipt),
        commitToReceipt: summary(commitToReceipt),
      },
      memory: {
        rssBeforeMb: Number(before.toFixed(1)),
        rssWithStreamsMb: Number(after.toFixed(1)),
        perStreamKb: Number((((after - before) * 1024) / jobs.length).toFixed(1)),
      },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'notifications.json'), `${JSON.stringify(result, null, 2)}\n`);
    const w = result.latencyMs.writeToReceipt;
    const c = result.latencyMs.commitToReceipt;
    writeFileSync(
      path.join(RESULTS, 'notifications.md'),
      [
        '# Notification stream bench',
        '',
        `${result.date}, commit ${result.commit}, Node ${result.node}, ${result.machine.cpus} cores, load average ${result.machine.loadAverage.join(' / ')}.`,
        `One server (PostgreSQL, LISTEN/NOTIFY) holding ${result.streams} open streams (${result.users} users × ${STREAMS_PER_USER});`,
        `${WRITES} notifications written by another process through notify() in a transaction, one every ${WRITE_GAP_MS} ms;`,
        `${result.receipts.received} of ${result.receipts.expected} receipts.`,
        '',
        '| latency (ms)          | p50 | p90 | p99 | max |',
        '| --------------------- | --- | --- | --- | --- |',
        `| write start → receipt | ${w.p50} | ${w.p90} | ${w.p99} | ${w.max} |`,
        `| commit → receipt      | ${c.p50} | ${c.p90} | ${c.p99} | ${c.max} |`,
        '',
        `Memory: server RSS ${result.memory.rssBeforeMb} MB before, ${result.memory.rssWithStreamsMb} MB with the streams open: **${result.memory.perStreamKb} KB per stream**. Opening all took ${result.openAllMs} ms.`,
        '',
      ].join('\n'),
    );
    console.log(JSON.stringify(result, null, 2));
  } catch (error) {
    console.error(`server log:\n${logTail(server, 40)}`);
    throw error;
  } finally {
    controller.abort();
    await database.close().catch(() => {});
    await stopAll();
    await dropDatabase(DB).catch(() => {});
    removeScratch();
    await release();
  }
}

await main();
