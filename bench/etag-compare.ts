import os from 'node:os';
import path from 'node:path';
import { login, userId } from './lib/api.js';
import { freePort, type Server, start, stopAll, waitUntilOk } from './lib/children.js';
import { countPostgresCpuOf } from './lib/cpu.js';
import { databaseUrl, dropDatabase, holdBenchLock, recreateDatabase } from './lib/db.js';
import { type Measurement, measure, type Target } from './lib/load.js';
import { benchOptions } from './lib/options.js';
import { appEnv, logsDir, SECRETS, scratch } from './lib/servers.js';
import { median } from './lib/stats.js';
import { BENCH_PASSWORD, seed } from './seed.js';

/**
 * Before and after the conditional-requests change (issue 19, target 5), in one run: the build of
 * the commit before (`BEFORE_DIST`, a dist/ built from it) and this checkout's dist/ serve one
 * seeded database side by side, and GET /users/me and catalog page 1 are loaded on each,
 * interleaved run after run (runGroup), plus the 304 answer of each on the new build.
 *
 *   BEFORE_DIST=/tmp/etag-before/dist npx tsx bench/etag-compare.ts --quick
 *
 * The new build starts first, so its migration (the version columns) is applied before the seed;
 * the old one finds every migration it knows applied, and never reads the new columns.
 */

const options = benchOptions(process.argv.slice(2));
const BEFORE_DIST = process.env.BEFORE_DIST ?? '/tmp/etag-before/dist';
const DB = 'homefront_bench_etag';

async function startBuild(name: string, dist: string, dbUrl: string): Promise<Server> {
  const port = await freePort();
  const server = start(
    name,
    [path.join(dist, 'server.js')],
    appEnv(port, { DATA_DIR: path.join(scratch(), `data-${name}`), DATABASE_URL: dbUrl }),
    port,
    scratch(),
    logsDir(),
  );
  await waitUntilOk(server, '/health/ready', performance.now());
  return server;
}

async function etagOf(server: Server, url: string, token: string): Promise<string> {
  const res = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  const tag = res.headers.get('etag');
  if (!tag) throw new Error(`${url}: no ETag from the new build`);
  return tag;
}

async function main() {
  const release = await holdBenchLock();
  console.log(
    `load average at the start: ${os
      .loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
  );
  await recreateDatabase(DB);
  countPostgresCpuOf(DB);
  const dbUrl = databaseUrl(DB);
  const after = await startBuild('after', path.join(process.cwd(), 'dist'), dbUrl);
  console.log('seeding');
  const seeded = await seed(dbUrl, options.seed, SECRETS.PASSWORD_PEPPER);
  const before = await startBuild('before', BEFORE_DIST, dbUrl);
  const tokens: string[] = [];
  for (const email of seeded.tokenUserEmails) {
    tokens.push(await login(after.url, email, BENCH_PASSWORD));
  }
  await Promise.all(tokens.map((token) => userId(after.url, token)));

  const bearer = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });
  const meTags = await Promise.all(tokens.map((token) => etagOf(after, '/users/me', token)));
  const pageTag = await etagOf(after, '/services?limit=20', tokens[0]!);
  const target = (name: string, server: Server, url: string, tags?: string[]): Target => ({
    name,
    server,
    connections: options.connections,
    variants: tokens.map((token, i) => ({
      path: url,
      headers: bearer(token, tags ? { 'if-none-match': tags[i] ?? '' } : {}),
    })),
  });
  const targets = [
    target('before: GET /users/me', before, '/users/me'),
    target('after: GET /users/me', after, '/users/me'),
    target('after: GET /users/me → 304', after, '/users/me', meTags),
    target('before: GET /services (page 1)', before, '/services?limit=20'),
    target('after: GET /services (page 1)', after, '/services?limit=20'),
    target(
      'after: GET /services (page 1) → 304',
      after,
      '/services?limit=20',
      tokens.map(() => pageTag),
    ),
  ];
  // As runGroup does (warm-up, then every target in turn, run after run), but a 304 counts.
  for (const t of targets) await measure(t, options.warmupSeconds);
  const runs = new Map<Target, Measurement[]>(targets.map((t) => [t, []]));
  for (let run = 0; run < options.runs; run++) {
    for (const t of targets) {
      const m = await measure(t, options.runSeconds);
      runs.get(t)?.push(m);
      console.log(`  ${t.name} run ${run + 1}: ${Math.round(m.rps)} req/s, p99 ${m.p99} ms`);
    }
  }
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '\n| scenario | req/s (median) | runs | p99 ms | app CPU µs/req | PostgreSQL CPU µs/req | statuses |',
  );
  console.log('|---|---:|---|---:|---:|---:|---|');
  for (const [t, ms] of runs) {
    const med = (pick: (m: Measurement) => number) => Math.round(median(ms.map(pick)) ?? 0);
    const statuses: Record<string, number> = {};
    for (const m of ms) {
      for (const [code, n] of Object.entries(m.statuses))
        statuses[code] = (statuses[code] ?? 0) + n;
    }
    console.log(
      `| ${t.name} | ${med((m) => m.rps)} | ${ms.map((m) => Math.round(m.rps)).join(', ')} | ${med((m) => m.p99)} | ${med((m) => m.cpuUs)} | ${med((m) => m.pgCpuUs)} | ${JSON.stringify(statuses)} |`,
    );
  }
  await stopAll();
  await dropDatabase(DB);
  await release();
}

main().catch(async (error) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
