import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { deepCursor, login, sessionIdOf, userId } from './lib/api.js';
import { stop, stopAll } from './lib/children.js';
import {
  type CompareReport,
  type Runtime,
  type StartupPair,
  writeCompareReport,
} from './lib/compare-report.js';
import { BENCH_DB, databaseUrl, dropDatabase, holdBenchLock, recreateDatabase } from './lib/db.js';
import { runGroup, type Target } from './lib/load.js';
import { runMeta, sampleLoad } from './lib/meta.js';
import { benchOptions } from './lib/options.js';
import {
  logsDir,
  removeScratch,
  SECRETS,
  type Started,
  scratch,
  startApp,
  startBenchServer,
} from './lib/servers.js';
import { settledRss } from './lib/startup.js';
import {
  type AppContext,
  catalogTargets,
  coreTargets,
  loginTarget,
  propertyTargets,
} from './scenarios.js';
import { BENCH_PASSWORD, seed } from './seed.js';

/**
 * `npm run bench:node -- --against=/path/to/node [--quick] [--no-build]`: the production build under
 * two Node.js binaries side by side, this bench's own node and `--against` (BENCH_AGAINST_NODE), on
 * one seeded database; each app scenario and the floor are measured on both, interleaved run after
 * run, then the startups likewise. Writes bench/results/node<A>-vs-<B>[-quick].{json,md}.
 */

const argv = process.argv.slice(2);
const options = benchOptions(argv);
const againstArg = argv.find((arg) => arg.startsWith('--against='))?.slice('--against='.length);
const against = againstArg ?? process.env.BENCH_AGAINST_NODE;
if (!against) {
  console.error(
    'usage: npm run bench:node -- --against=/path/to/other/node [--quick] [--no-build]',
  );
  process.exit(2);
}
const RESULTS = path.join(process.cwd(), 'bench/results');
const timing = {
  warmupSeconds: options.warmupSeconds,
  runSeconds: options.runSeconds,
  runs: options.runs,
};
const loginTiming = { ...timing, runSeconds: options.loginRunSeconds, runs: options.loginRuns };

const runtime = (binary: string): Runtime => ({
  version: execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim(),
  binary,
});
const runtimes: [Runtime, Runtime] = [runtime(process.execPath), runtime(against)];
const major = (r: Runtime) => r.version.replace(/^v/, '').split('.')[0];

const report: CompareReport = {
  meta: runMeta(options, { startupRepeats: options.startupRepeats }),
  runtimes,
  pairs: [],
  startups: [],
  settledRss: [],
  notes: [],
};

const step = (text: string) => console.log(`\n== ${text}`);

/** Each scenario of `build`, on the first runtime's context then the second's, named apart. */
function paired(build: (context: AppContext) => Target[], contexts: AppContext[]): Target[] {
  const lists = contexts.map((context, i) =>
    build(context).map((target) => ({
      ...target,
      name: `${target.name} · ${runtimes[i]!.version}`,
    })),
  );
  return lists[0]!.flatMap((target, i) => [target, lists[1]![i]!]);
}

async function measurePairs(
  build: (context: AppContext) => Target[],
  contexts: AppContext[],
  loginLike = false,
) {
  const results = await runGroup(paired(build, contexts), loginLike ? loginTiming : timing);
  const names = build(contexts[0]!).map((target) => target.name);
  names.forEach((scenario, i) => {
    report.pairs.push({ scenario, results: [results[2 * i]!, results[2 * i + 1]!] });
  });
}

/** Spawn to ready on PostgreSQL, then PGlite on an empty DATA_DIR, alternating the runtimes. */
async function measureStartups(dbUrl: string) {
  const kinds: { start: string; database: () => [string | undefined, Record<string, string>] }[] = [
    { start: 'PostgreSQL, migrated database', database: () => [dbUrl, {}] },
    {
      start: 'PGlite, first start (empty DATA_DIR)',
      database: () => [undefined, { DATA_DIR: mkdtempSync(path.join(scratch(), 'pglite-')) }],
    },
  ];
  for (const kind of kinds) {
    const figures: StartupPair = { start: kind.start, readyMs: [[], []], idleRssMb: [[], []] };
    for (let repeat = 0; repeat < options.startupRepeats; repeat++) {
      for (const [i, r] of runtimes.entries()) {
        const [url, extra] = kind.database();
        const started = await startApp(`startup-${major(r)}`, url, extra, [], r.binary);
        figures.readyMs[i]!.push(Math.round(started.readyMs));
        figures.idleRssMb[i]!.push(Math.round(started.idleRssMb * 10) / 10);
        await stop(started.server);
      }
    }
    console.log(`  ${kind.start}: ${JSON.stringify(figures.readyMs)} ms`);
    report.startups.push(figures);
  }
  for (const r of runtimes) report.settledRss.push(await settledRss(dbUrl, r.binary));
}

async function main() {
  if (options.build) {
    step('npm run build');
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  } else report.notes.push('--no-build: dist/ was used as it was.');

  step(
    `fresh database ${BENCH_DB}; dist/server.js on ${runtimes.map((r) => r.version).join(' and ')}`,
  );
  await recreateDatabase(BENCH_DB);
  const dbUrl = databaseUrl(BENCH_DB);
  // The first applies the migrations; the second starts on the migrated database.
  const apps = [await startApp(`app-${major(runtimes[0])}`, dbUrl, {}, [], runtimes[0].binary)];
  step('seeding');
  const seeded = await seed(dbUrl, options.seed, SECRETS.PASSWORD_PEPPER);
  report.seed = { counts: seeded.counts, seconds: Math.round(seeded.seconds * 10) / 10 };
  apps.push(await startApp(`app-${major(runtimes[1])}`, dbUrl, {}, [], runtimes[1].binary));
  const floors: Started[] = [];
  for (const r of runtimes) {
    floors.push(
      await startBenchServer(
        `floor-${major(r)}`,
        'floor-server.ts',
        { DATABASE_URL: dbUrl },
        [],
        r.binary,
      ),
    );
  }

  step('logging in the token users');
  const url = apps[0]!.server.url;
  const tokens: string[] = [];
  for (const email of seeded.tokenUserEmails) tokens.push(await login(url, email, BENCH_PASSWORD));
  const userIds = await Promise.all(tokens.map((token) => userId(url, token)));
  const cursor = await deepCursor(url, tokens[0]!, options.seed.deepPage);
  const contexts: AppContext[] = apps.map((app, i) => ({
    app: app.server,
    floor: floors[i]!.server,
    connections: options.connections,
    loginConnections: options.loginConnections,
    tokens,
    // node-compare runs the core and catalog groups only.
    providerTokens: [],
    providerIds: [],
    providerSessionIds: [],
    heavyOwnerToken: tokens[0]!,
    userIds,
    sessionIds: tokens.map(sessionIdOf),
    loginEmails: seeded.loginUserEmails,
    password: BENCH_PASSWORD,
    deepCursor: cursor
      ? { cursor, page: options.seed.deepPage }
      : { skip: `skipped: the catalog has fewer than ${options.seed.deepPage} pages` },
    catalogFilter: seeded.catalogFilter,
    catalogQ: seeded.catalogQ,
  }));

  step('unauthenticated, authenticated and the floor');
  await measurePairs(coreTargets, contexts);
  step('catalog');
  await measurePairs(catalogTargets, contexts);
  step('properties');
  await measurePairs(propertyTargets, contexts);
  step('logins (bcrypt 12)');
  await measurePairs((context) => [loginTarget(context)], contexts, true);

  for (const started of [...floors, ...apps]) await stop(started.server);
  step('startup to ready');
  await measureStartups(dbUrl);
}

const releaseLock = await holdBenchLock();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the servers and dropping ${BENCH_DB}`);
    void stopAll()
      .then(() => dropDatabase(BENCH_DB))
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}
const load = sampleLoad(report.meta);
let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`\nbench failed: ${message}\nserver logs kept in ${logsDir()}`);
  report.notes.push(`The run failed: ${message}`);
} finally {
  await stopAll();
  await dropDatabase(BENCH_DB).catch(() => undefined);
  if (!failed) removeScratch();
  await releaseLock();
}
const busy = load.stop('compare the two columns, which shared the same conditions run by run.');
if (busy) report.notes.push(busy);
report.notes.push(
  'The servers, PostgreSQL and the load generator share the machine’s cores.',
  'Rate limits are raised as in npm run bench so that no 429 is measured; the limiter still runs on every request.',
);
const base = `node${major(runtimes[0])}-vs-${major(runtimes[1])}${options.quick ? '-quick' : ''}${failed ? '-failed' : ''}`;
writeCompareReport(RESULTS, base, report);
console.log(`\nwritten: bench/results/${base}.json, bench/results/${base}.md`);
process.exit(failed ? 1 : 0);
