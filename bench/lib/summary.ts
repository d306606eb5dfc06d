import type { Report } from './report.js';

export const MARKETPLACE_REFERENCE = 'GET /users/me (marketplace group)';
export const MARKETPLACE_LISTS = [
  'GET /service-providers/requests (feed)',
  'GET /homeowners/bookings',
  'GET /service-providers/bookings',
];

/** The headline comparisons of a run, as report fields and as the Markdown summary's lines. */

export const FLOOR = 'floor: GET /users/{id} (Fastify + pg)';
export const AUTH_QUERY_FLOOR = 'floor + the auth query (loadCaller SQL)';

const pct = (value: number) => `${Math.round(value * 100)}%`;
const verdict = (ok: boolean) => (ok ? '(target met)' : '(target MISSED)');

export function summaryLines(report: Report, loginConnections: number): string[] {
  const find = (name: string) => report.scenarios.find((s) => s.name === name && s.status === 'ok');
  const lines: string[] = [];
  const me = find('GET /users/me');
  const live = find('GET /health/live');
  const floor = find(FLOOR);
  if (me?.rps && floor?.rps) {
    const ratio = me.rps / floor.rps;
    report.comparisons.floorRatio = Math.round(ratio * 1000) / 1000;
    lines.push(
      `Floor ratio: GET /users/me ${Math.round(me.rps)} req/s is ${pct(ratio)} of the floor's ${Math.round(floor.rps)} req/s ${verdict(ratio >= 0.75)} (target ≥ 75%); CPU per request: app ${me.cpuUs} + PostgreSQL ${me.pgCpuUs} µs vs floor ${floor.cpuUs} + ${floor.pgCpuUs} µs.`,
    );
  }
  const callerFloor = find(AUTH_QUERY_FLOOR);
  if (me?.rps && floor?.rps && callerFloor?.rps) {
    report.comparisons.authQueryFloorRatio =
      Math.round((callerFloor.rps / floor.rps) * 1000) / 1000;
    lines.push(
      `Where the gap goes: the floor running the app's own auth query (loadCaller) instead of a primary-key SELECT does ${Math.round(callerFloor.rps)} req/s (${pct(callerFloor.rps / floor.rps)} of the floor); GET /users/me is ${pct(me.rps / callerFloor.rps)} of that, the rest being JWT verification, hooks (request id, security headers, rate limit, metrics), logging and schema serialisation.`,
    );
  }
  if (me?.rps && live?.rps) {
    report.comparisons.authenticatedVsUnauthenticated =
      Math.round((me.rps / live.rps) * 1000) / 1000;
    lines.push(
      `Authenticated one-query route vs unauthenticated no-op: GET /users/me ${Math.round(me.rps)} req/s (p99 ${me.p99} ms) vs GET /health/live ${Math.round(live.rps)} req/s (p99 ${live.p99} ms): ${pct(me.rps / live.rps)}.`,
    );
  }
  const flooded = find('GET /users/me during a login flood');
  if (me?.p99 !== undefined && flooded?.p99 !== undefined && flooded.rps) {
    const ratio = flooded.p99 / Math.max(me.p99, 1);
    report.comparisons.loginFloodP99Ratio = Math.round(ratio * 100) / 100;
    lines.push(
      `GET /users/me p99 during a login flood (${loginConnections} connections): ${flooded.p99} ms vs ${me.p99} ms idle = ${ratio.toFixed(2)}× ${verdict(ratio <= 2)} (target ≤ 2×); its throughput ${Math.round(flooded.rps ?? 0)} vs ${Math.round(me.rps ?? 0)} req/s.`,
    );
  }
  const logins = find('POST /auth/login (bcrypt 12)');
  if (logins?.rps && report.bcrypt) {
    const ratio = logins.rps / report.bcrypt.perSecond;
    report.comparisons.loginVsBcrypt = Math.round(ratio * 1000) / 1000;
    lines.push(
      `Logins: ${logins.rps.toFixed(1)} logins/s (p50 ${logins.p50} ms) vs ${report.bcrypt.perSecond.toFixed(1)} raw bcrypt-12 compares/s in-process with ${report.bcrypt.parallel} in flight (${pct(ratio)} of that ceiling)${report.bcryptOneAtATime ? ` and ${report.bcryptOneAtATime.perSecond.toFixed(1)}/s one at a time (${pct(logins.rps / report.bcryptOneAtATime.perSecond)})` : ''}.`,
    );
  }
  const catalog = report.scenarios.filter(
    (x) => x.status === 'ok' && x.name.startsWith('GET /services') && !x.name.includes('worker'),
  );
  const first = catalog.find((x) => x.name === 'GET /services (page 1)');
  const deep = catalog.find((x) => /^GET \/services \(page \d+\)$/.test(x.name) && x !== first);
  if (first?.rps && deep?.rps) {
    const ratio = first.rps / deep.rps;
    report.comparisons.catalogDeepPageCost = Math.round(ratio * 100) / 100;
    lines.push(
      `Catalog deep page: ${deep.name.slice(4)} ${Math.round(deep.rps)} req/s vs page 1 ${Math.round(first.rps)} req/s: costs ${ratio.toFixed(2)}× the first ${verdict(ratio <= 1.2)} (target ≤ 1.2×).`,
    );
  }
  if (catalog.length) {
    const worst = Math.max(...catalog.map((x) => x.p99 ?? Infinity));
    lines.push(
      `Catalog p99: ${catalog.map((x) => `${x.name.slice(4)} ${x.p99} ms`).join(', ')} ${verdict(worst < 30)} (target < 30 ms for every catalog query).`,
    );
  }
  const workers = (what: string) =>
    [1, 2].map((n) => find(`${what}, ${n} worker${n > 1 ? 's' : ''} (Redis counters)`));
  for (const what of ['GET /users/me', 'GET /services page 1']) {
    const [one, two] = workers(what);
    if (!one?.rps || !two?.rps) continue;
    lines.push(
      `${what}, WEB_CONCURRENCY 1 vs 2 (counters in Redis): ${Math.round(one.rps)} vs ${Math.round(two.rps)} req/s (${(two.rps / one.rps).toFixed(2)}×), p99 ${one.p99} vs ${two.p99} ms.`,
    );
  }
  const reference = find(MARKETPLACE_REFERENCE);
  for (const name of MARKETPLACE_LISTS) {
    const list = find(name);
    if (!reference?.rps || !list?.rps) continue;
    const ratio = list.rps / reference.rps;
    report.comparisons.marketplaceListRatios ??= {};
    (report.comparisons.marketplaceListRatios as Record<string, number>)[name] =
      Math.round(ratio * 1000) / 1000;
    const floor = find(`marketplace floor: ${name.slice(4)}`);
    const floorPart = floor?.rps
      ? ` Its floor (the same auth query, list SQL and response schema on bare Fastify + pg) does ${Math.round(floor.rps)} req/s, ${pct(floor.rps / reference.rps)} of GET /users/me; the list is ${pct(list.rps / floor.rps)} of its floor (app ${floor.cpuUs} + PostgreSQL ${floor.pgCpuUs} µs there).`
      : '';
    lines.push(
      `Marketplace, ${name}: ${Math.round(list.rps)} req/s (p99 ${list.p99} ms) vs GET /users/me ${Math.round(reference.rps)} req/s in the same group = ${pct(ratio)} ${verdict(ratio >= 0.6)} (≥ 60%); CPU per request app ${list.cpuUs} + PostgreSQL ${list.pgCpuUs} µs.${floorPart}`,
    );
  }
  const none = find('headers: bare Fastify route, none');
  const ours = find('headers: + Homefront security-headers');
  const helmet = find('headers: + @fastify/helmet');
  if (none?.rps && ours?.rps) {
    const base = none.rps;
    const cost = 1 - ours.rps / base;
    report.comparisons.securityHeadersCost = Math.round(cost * 1000) / 1000;
    const change = (rps: number) =>
      `${rps >= base ? '+' : ''}${((rps / base - 1) * 100).toFixed(1)}%`;
    let line = `Security headers on a bare route: none ${Math.round(none.rps)} req/s, Homefront's hook ${Math.round(ours.rps)} req/s (${change(ours.rps)})`;
    if (helmet?.rps) {
      report.comparisons.helmetCost = Math.round((1 - helmet.rps / base) * 1000) / 1000;
      line += `, @fastify/helmet ${Math.round(helmet.rps)} req/s (${change(helmet.rps)})`;
    }
    lines.push(`${line}.`);
  }
  for (const scenario of catalog) {
    const floorOf = find(`catalog floor: ${scenario.name.slice(4)}`);
    if (!scenario.rps || !floorOf?.rps) continue;
    const ratio = scenario.rps / floorOf.rps;
    const p99 = (scenario.p99 ?? 0) / Math.max(floorOf.p99 ?? 1, 1);
    report.comparisons.catalogFloorRatios ??= {};
    (report.comparisons.catalogFloorRatios as Record<string, unknown>)[scenario.name] = {
      throughput: Math.round(ratio * 1000) / 1000,
      p99: Math.round(p99 * 100) / 100,
    };
    lines.push(
      `Catalog vs its floor, ${scenario.name.slice(4)}: ${Math.round(scenario.rps)} vs ${Math.round(floorOf.rps)} req/s = ${pct(ratio)} ${verdict(ratio >= 0.8)} (≥ 80%); p99 ${scenario.p99} vs ${floorOf.p99} ms = ${p99.toFixed(2)}× ${verdict(p99 <= 1.3)} (≤ 1.3×); CPU per request app ${scenario.cpuUs} + PostgreSQL ${scenario.pgCpuUs} µs vs floor ${floorOf.cpuUs} + ${floorOf.pgCpuUs} µs.`,
    );
  }
  for (const label of [
    'GET /users/{id}',
    'the auth query (loadCaller)',
    'catalog page 1 (auth query + page query)',
  ]) {
    const pg = find(`driver: ${label} · node-postgres`);
    const js = find(`driver: ${label} · postgres.js`);
    if (!pg?.rps || !js?.rps) continue;
    lines.push(
      `Driver, ${label} on the floor: node-postgres ${Math.round(pg.rps)} req/s (${pg.cpuUs} µs CPU/req) vs postgres.js ${Math.round(js.rps)} req/s (${js.cpuUs} µs CPU/req): postgres.js ${((js.rps / pg.rps - 1) * 100).toFixed(1)}% in throughput, ${((js.cpuUs ?? 0) / Math.max(pg.cpuUs ?? 1, 1)).toFixed(2)}× the CPU (adopt at ≥ +10% with no loss elsewhere).`,
    );
  }
  const bare = find('pieces: bare route + none');
  if (bare?.cpuUs !== undefined) {
    const pieces = report.scenarios.filter(
      (x) => x.status === 'ok' && x.name.startsWith('pieces: bare route + ') && x !== bare,
    );
    lines.push(
      `Per-request pieces on a bare route (server CPU µs/request over the bare route's ${bare.cpuUs}): ${pieces.map((x) => `${x.name.slice('pieces: bare route + '.length)} ${((x.cpuUs ?? 0) - (bare.cpuUs ?? 0)).toFixed(0)}`).join(', ')}.`,
    );
  }
  const memory = report.memory;
  if (memory?.appRssMb && memory.floorRssMb) {
    const ratio = memory.appRssMb / memory.floorRssMb;
    report.comparisons.rssAfterLoadRatio = Math.round(ratio * 100) / 100;
    lines.push(
      `RSS after the whole bench: app ${memory.appRssMb} MB vs floor ${memory.floorRssMb} MB = ${ratio.toFixed(2)}× ${verdict(ratio <= 1.3)} (≤ 1.3×); the app's V8 heap ${memory.appHeapUsedMb} MB used of ${memory.appHeapTotalMb} MB, external ${memory.appExternalMb} MB.`,
    );
  }
  const s = report.startup;
  if (s.postgresMs !== undefined) {
    lines.push(
      `Startup to ready: PostgreSQL ${s.postgresMs} ms ${verdict(s.postgresMs <= 1500)} (≤ 1.5 s; ${s.postgresFreshMs} ms on a fresh database with migrations), PGlite first start ${s.pgliteFirstMs} ms ${verdict((s.pgliteFirstMs ?? Infinity) <= 3000)} (≤ 3 s), PGlite restart ${s.pgliteRestartMs} ms.`,
    );
  }
  if (s.idleRssMb.postgres !== undefined) {
    const settled = s.settledRss;
    const idle = settled?.mb ?? s.idleRssMb.postgres;
    lines.push(
      `Idle RSS on PostgreSQL: ${settled ? `${settled.mb} MB once settled (${settled.afterSeconds} s after ready), ` : ''}${s.idleRssMb.postgres} MB a second after ready ${verdict(idle <= 120)} (≤ 120 MB)${s.idleRssMb.pglite === undefined ? '' : `; ${s.idleRssMb.pglite} MB on PGlite a second after ready (the embedded database lives in the process)`}.`,
    );
  }
  const skipped = report.scenarios.filter((scenario) => scenario.status !== 'ok');
  if (skipped.length)
    lines.push(`Not measured: ${skipped.map((x) => `${x.name} (${x.note})`).join('; ')}.`);
  return lines;
}
