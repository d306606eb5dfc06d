import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deepCursor, login, sessionIdOf, userId } from './lib/api.js';
import { bcryptCompareRate } from './lib/bcrypt-rate.js';
import { rssMb, type Server, stop, stopAll } from './lib/children.js';
import { countPostgresCpuOf } from './lib/cpu.js';
import { BENCH_DB, databaseUrl, dropDatabase, holdBenchLock, recreateDatabase } from './lib/db.js';
import { probe, runGroup, runTogether } from './lib/load.js';
import { marketplacePlans } from './lib/marketplace-plans.js';
import { runMeta, sampleLoad } from './lib/meta.js';
import { benchOptions } from './lib/options.js';
import { profileRun, RAW_PROFILES } from './lib/profiling.js';
import { type Report, scenarioTable, writeReport } from './lib/report.js';
import { logsDir, removeScratch, SECRETS, startApp, startBenchServer } from './lib/servers.js';
import { measureStartups } from './lib/startup.js';
import { summaryLines } from './lib/summary.js';
import {
  catalogTargets,
  coreTargets,
  driverTargets,
  headerTargets,
  loginTarget,
  marketplaceTargets,
  PIECE_SETS,
  pieceTargets,
  propertyTargets,
  type ScenarioContext,
  workerTargets,
} from './scenarios.js';
import { BENCH_PASSWORD, seed } from './seed.js';

/**
 * `npm run bench`: builds, starts the production build on a fresh PostgreSQL database, seeds it,
 * loads it scenario by scenario with autocannon next to a floor server, measures startups, and
 * writes bench/results/latest.{json,md}. `--quick` (BENCH_QUICK=1) is a smoke run of a minute or
 * so; `--profile` adds CPU profiles of GET /users/me and the floor; `--no-build` uses dist/ as is.
 */

const options = benchOptions(process.argv.slice(2));
/** Whether a group of scenarios runs: all of them unless `--only=group,group` names some. */
const runs = (group: string) => !options.only || options.only.includes(group);
const RESULTS = path.join(process.cwd(), 'bench/results');
const timing = {
  warmupSeconds: options.warmupSeconds,
  runSeconds: options.runSeconds,
  runs: options.runs,
};
const loginTiming = {
  warmupSeconds: options.warmupSeconds,
  runSeconds: options.loginRunSeconds,
  runs: options.loginRuns,
};

const report: Report = {
  meta: runMeta(options),
  startup: { idleRssMb: {}, samples: {} },
  scenarios: [],
  comparisons: {},
  notes: [],
};

let releaseLock: (() => Promise<void>) | undefined;
let cleaning: Promise<void> | undefined;
/** Stops every child, drops the database; the scratch folder (and its logs) goes unless `keepLogs`. */
function cleanup(keepLogs = false): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    // Only the lock holder owns the database: a run still waiting must not drop another's.
    if (releaseLock) {
      await dropDatabase(BENCH_DB).catch((error: Error) =>
        console.error(`could not drop ${BENCH_DB}: ${error.message}`),
      );
    }
    if (keepLogs) console.error(`server logs kept in ${logsDir()}`);
    else removeScratch();
    await releaseLock?.().catch(() => undefined);
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the servers and dropping ${BENCH_DB}`);
    void cleanup(true).finally(() => process.exit(130));
  });
}

const step = (text: string) => console.log(`\n== ${text}`);

/** Redis for the worker scenarios' shared counters; database 9, apart from the tests' keys. */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
async function redisAnswers(url: string): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
  });
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function catalogCursor(app: Server, token: string) {
  const first = await probe({
    name: 'catalog',
    server: app,
    variants: [{ path: '/services?limit=20', headers: { authorization: `Bearer ${token}` } }],
    connections: 1,
  });
  if (first.status !== 'ok') return { skip: first.note ?? 'skipped' };
  const cursor = await deepCursor(app.url, token, options.seed.deepPage);
  return cursor
    ? { cursor, page: options.seed.deepPage }
    : { skip: `skipped: the catalog has fewer than ${options.seed.deepPage} pages` };
}

/** The floor on node-postgres vs on postgres.js, if postgres.js is installed (--no-save). */
async function drivers(context: ScenarioContext, dbUrl: string) {
  try {
    await import('postgres' as string);
  } catch {
    report.notes.push(
      'postgres.js is not installed (npm install --no-save postgres@3.4.9): the driver comparison was not run.',
    );
    return;
  }
  step('the driver: node-postgres vs postgres.js, on the floor');
  const other = await startBenchServer('floor-postgres-js', 'floor-server.ts', {
    DATABASE_URL: dbUrl,
    DRIVER: 'postgres',
  });
  report.scenarios.push(...(await runGroup(driverTargets(context, other.server), timing)));
  await stop(other.server);
}

/**
 * RSS of the app and of the floor after every load they served, and what the app's V8 heap holds
 * of it (its own /metrics): the rest is code, native buffers and the allocator's free pages.
 */
async function memoryAfterLoad(app: Server, floor: Server) {
  const text = await fetch(`${app.url}/metrics`)
    .then((response) => response.text())
    .catch(() => '');
  const mb = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return match ? Math.round((Number(match[1]) / 2 ** 20) * 10) / 10 : undefined;
  };
  const round = (value: number | undefined) =>
    value === undefined ? undefined : Math.round(value * 10) / 10;
  report.memory = {
    appRssMb: round(rssMb(app.pid)),
    floorRssMb: round(rssMb(floor.pid)),
    appHeapUsedMb: mb('nodejs_heap_size_used_bytes'),
    appHeapTotalMb: mb('nodejs_heap_size_total_bytes'),
    appExternalMb: mb('nodejs_external_memory_bytes'),
  };
  console.log(`  memory after the load: ${JSON.stringify(report.memory)}`);
}

async function logins(context: ScenarioContext) {
  step(`raw bcrypt compares at cost 12 (${options.bcryptSeconds} s, in this process)`);
  report.bcrypt = await bcryptCompareRate(12, options.bcryptSeconds);
  report.bcryptOneAtATime = await bcryptCompareRate(12, options.bcryptSeconds, 1);
  console.log(
    `  ${report.bcrypt.perSecond.toFixed(1)} compares/s with ${report.bcrypt.parallel} in flight, ${report.bcryptOneAtATime.perSecond.toFixed(1)} one at a time`,
  );
  step('logins');
  const logins = loginTarget(context);
  report.scenarios.push(...(await runGroup([logins], loginTiming)));

  step('GET /users/me during a login flood');
  const me = coreTargets(context)[1]!;
  const mixed = await runTogether(
    { ...me, name: 'GET /users/me during a login flood' },
    { ...logins, name: 'POST /auth/login (the flood)' },
    loginTiming,
  );
  report.scenarios.push(...mixed);
}

async function main() {
  releaseLock = await holdBenchLock();
  if (options.build) {
    step('npm run build');
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  } else report.notes.push('--no-build: dist/ was used as it was.');

  step(`fresh database ${BENCH_DB}; starting node dist/server.js (NODE_ENV=production)`);
  await recreateDatabase(BENCH_DB);
  countPostgresCpuOf(BENCH_DB);
  const dbUrl = databaseUrl(BENCH_DB);
  const app = await startApp('app', dbUrl);
  report.startup.postgresFreshMs = Math.round(app.readyMs);
  report.startup.samples.postgresFresh = [Math.round(app.readyMs)];
  report.startup.idleRssMb.postgres = Math.round(app.idleRssMb * 10) / 10;
  console.log(`  ready in ${Math.round(app.readyMs)} ms, idle RSS ${app.idleRssMb.toFixed(1)} MB`);

  step('seeding');
  const seeded = await seed(dbUrl, options.seed, SECRETS.PASSWORD_PEPPER);
  report.seed = { counts: seeded.counts, seconds: Math.round(seeded.seconds * 10) / 10 };
  console.log(`  ${JSON.stringify(seeded.counts)} in ${seeded.seconds.toFixed(1)} s`);

  step('logging in the token users through the API');
  const tokens: string[] = [];
  for (const email of seeded.tokenUserEmails)
    tokens.push(await login(app.server.url, email, BENCH_PASSWORD));
  const userIds = await Promise.all(tokens.map((token) => userId(app.server.url, token)));
  const providerTokens: string[] = [];
  for (const email of seeded.providerTokenEmails)
    providerTokens.push(await login(app.server.url, email, BENCH_PASSWORD));
  const providerIds = await Promise.all(
    providerTokens.map((token) => userId(app.server.url, token)),
  );
  const deep = await catalogCursor(app.server, tokens[0]!);
  console.log(
    `  ${tokens.length} tokens; deep page: ${'skip' in deep ? deep.skip : `page ${deep.page}`}`,
  );

  step('starting the floor and the header servers');
  const floor = await startBenchServer('floor', 'floor-server.ts', { DATABASE_URL: dbUrl });
  const headers = {
    none: (await startBenchServer('headers-none', 'headers-server.ts', { HEADERS: 'none' })).server,
    homefront: (
      await startBenchServer('headers-homefront', 'headers-server.ts', { HEADERS: 'homefront' })
    ).server,
    helmet: (await startBenchServer('headers-helmet', 'headers-server.ts', { HEADERS: 'helmet' }))
      .server,
  };

  const context: ScenarioContext = {
    app: app.server,
    floor: floor.server,
    headerServers: headers,
    connections: options.connections,
    loginConnections: options.loginConnections,
    tokens,
    providerTokens,
    providerIds,
    providerSessionIds: providerTokens.map(sessionIdOf),
    heavyOwnerToken: tokens[0]!,
    userIds,
    sessionIds: tokens.map(sessionIdOf),
    loginEmails: seeded.loginUserEmails,
    password: BENCH_PASSWORD,
    deepCursor: deep,
    catalogFilter: seeded.catalogFilter,
    catalogQ: seeded.catalogQ,
  };

  if (runs('core')) {
    step('unauthenticated, authenticated and the floor');
    report.scenarios.push(...(await runGroup(coreTargets(context), timing)));
  }
  if (runs('catalog')) {
    step('catalog');
    report.scenarios.push(...(await runGroup(catalogTargets(context), timing)));
  }
  if (runs('marketplace')) {
    step('marketplace lists beside GET /users/me');
    report.scenarios.push(...(await runGroup(marketplaceTargets(context), timing)));
    report.plans = await marketplacePlans(dbUrl);
    for (const [list, plan] of Object.entries(report.plans)) console.log(`  ${list}: ${plan}`);
  }
  if (runs('driver')) await drivers(context, dbUrl);
  if (runs('properties')) {
    step('properties');
    report.scenarios.push(...(await runGroup(propertyTargets(context), timing)));
  }

  if (!runs('workers')) {
    // skipped (--only)
  } else if (await redisAnswers(REDIS_URL)) {
    step('WEB_CONCURRENCY 1 vs 2, rate limits shared through Redis');
    const one = await startApp('app-1-worker', dbUrl, { REDIS_URL });
    const two = await startApp('app-2-workers', dbUrl, { REDIS_URL, WEB_CONCURRENCY: '2' });
    report.scenarios.push(
      ...(await runGroup(workerTargets(context, { one: one.server, two: two.server }), timing)),
    );
    await stop(one.server);
    await stop(two.server);
  } else {
    report.notes.push(`No Redis at ${REDIS_URL}: the 1-vs-2-worker scenarios were not run.`);
  }

  if (runs('logins')) await logins(context);

  if (runs('headers')) {
    step('security headers on a bare route');
    report.scenarios.push(...(await runGroup(headerTargets(context), timing)));
  }

  if (runs('pieces')) {
    step('the per-request pieces, one by one, on a bare route');
    const pieceServers: Record<string, Server> = {};
    for (const [label, pieces] of Object.entries(PIECE_SETS)) {
      pieceServers[label] = (
        await startBenchServer(`pieces-${label.replace(/\W+/g, '-')}`, 'pieces-server.ts', {
          PIECES: pieces,
        })
      ).server;
    }
    report.scenarios.push(
      ...(await runGroup(pieceTargets(options.connections, pieceServers), timing)),
    );
    for (const server of Object.values(pieceServers)) await stop(server);
  }

  if (options.profile) {
    mkdirSync(RESULTS, { recursive: true });
    step('profiling GET /users/me, the floor and start-up (--cpu-prof)');
    const sections = await profileRun(context, dbUrl, {
      warmup: options.warmupSeconds,
      measured: options.runSeconds,
    });
    const file = path.join(RESULTS, options.quick ? 'profile-quick.md' : 'profile.md');
    writeFileSync(
      file,
      `# CPU profiles (${report.meta.date}, ${report.meta.commit})\n\n${sections.join('\n')}`,
    );
    console.log(
      `  written: ${path.relative(process.cwd(), file)}; raw profiles in ${RAW_PROFILES}`,
    );
  }

  await memoryAfterLoad(app.server, floor.server);
  for (const server of [floor.server, ...Object.values(headers)]) await stop(server);
  await stop(app.server);

  if (!runs('startup')) return;
  step('startup to ready');
  await measureStartups(dbUrl, options.startupRepeats, report.startup);
  console.log(`  ${JSON.stringify(report.startup)}`);
}

const load = sampleLoad(report.meta);
let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
  report.notes.push(`The run failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanup(failed);
}
const busy = load.stop(
  'the interleaved comparisons (floor ratios, CPU per request, header cost) hold up better.',
);
if (busy) report.notes.unshift(busy);
report.notes.push(
  'The load generator (autocannon) runs on the same machine as the servers and PostgreSQL, so all share the cores.',
  'Rate limits are raised (RATE_LIMIT_WINDOW=1, RATE_LIMIT_GLOBAL_MAX=1000000, ...) so that no 429 is measured; the limiter still runs on every request. ACCESS_TOKEN_TTL=3600 so one login lasts the run.',
);
const summary = summaryLines(report, options.loginConnections);
// A failed run does not overwrite the last good results.
const base = `${options.quick ? 'latest-quick' : 'latest'}${failed ? '-failed' : ''}`;
writeReport(RESULTS, base, report, summary);
console.log(
  `\n${scenarioTable(report.scenarios)}\n\n${summary.map((line) => `- ${line}`).join('\n')}`,
);
console.log(`\nwritten: bench/results/${base}.json, bench/results/${base}.md`);
process.exit(failed ? 1 : 0);
