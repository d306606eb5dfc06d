import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pino } from 'pino';

/**
 * `DATABASE_URL=... npx tsx bench/per-request.ts [--quick]`: what each piece of GET /users/me
 * costs, in µs of CPU per request. The production build (dist/) is built as the server builds
 * it, on DATABASE_URL (migrated here; one user and session are added), and one real GET
 * /users/me is injected; its request and reply are kept, and then every hook the route runs
 * (taken from the route's own context, so exactly what production runs, in order) is called
 * again and again on them, alone, and timed. Likewise the JWT check (cached and full), the
 * session and grants query (this process's CPU per call; PostgreSQL's own is not in it), the
 * response serialiser of the route, the per-request child logger and the log lines at info, the
 * request id, and Fastify's routing (find-my-way on the app's route table).
 *
 * Every figure is the median of interleaved rounds of the process's CPU time (user + system)
 * per call: CPU time, not wall time, so the shared machine's load inflates it less. Writes
 * bench/results/per-request.md (per-request-quick.md with --quick).
 */

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 9;
const CALLS = quick ? 20_000 : 100_000;
const QUERIES = quick ? 1_000 : 4_000;
const ROOT = process.env.BENCH_ROOT ?? process.cwd();
const dist = async <T>(file: string) =>
  (await import(pathToFileURL(path.join(ROOT, 'dist', file)).href)) as T;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

type Step = () => unknown;
/** CPU µs (user + system) of this process per call of `fn`, over `n` calls. */
async function cpuPerCall(n: number, fn: Step): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const result = fn();
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') await result;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

interface Piece {
  name: string;
  fn: Step;
  calls?: number;
  /** Subtracted: the cost of calling an empty hook the same way. */
  minus?: string;
  /** Requests one call stands for (several queries in flight at once). */
  per?: number;
}

/** Runs every piece once per round, interleaved, and returns each one's median µs. */
async function measureAll(pieces: Piece[]): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(pieces.map((piece) => [piece.name, []]));
  for (const piece of pieces) await cpuPerCall(Math.ceil((piece.calls ?? CALLS) / 4), piece.fn);
  for (let round = 0; round < ROUNDS; round++) {
    for (const piece of pieces) {
      const us = await cpuPerCall(piece.calls ?? CALLS, piece.fn);
      samples.get(piece.name)!.push(us / (piece.per ?? 1));
    }
  }
  const medians = new Map([...samples].map(([name, values]) => [name, median(values)]));
  for (const piece of pieces) {
    if (piece.minus) {
      medians.set(piece.name, Math.max(0, medians.get(piece.name)! - medians.get(piece.minus)!));
    }
  }
  return medians;
}

type Hook = ((request: FastifyRequest, reply: FastifyReply, ...rest: unknown[]) => unknown) & {
  name: string;
};
/** Calls a hook the way Fastify does: with `done` when it takes one, awaited otherwise. */
function callHook(hook: Hook, request: FastifyRequest, reply: FastifyReply, payload?: unknown) {
  const withPayload = payload !== undefined;
  const arity = hook.length;
  if (arity === (withPayload ? 4 : 3)) {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => (error ? reject(error) : resolve());
      if (withPayload) hook(request, reply, payload, done);
      else hook(request, reply, done);
    });
  }
  return withPayload ? hook(request, reply, payload) : hook(request, reply);
}

/**
 * Names a hook by what it does: the hooks Fastify keeps are bound functions (no source to read),
 * so each is called once on the reply with its headers cleared, and the headers it sets say
 * which it is. onResponse has only the metrics hook in this app.
 */
function hookName(phase: string, headersSet: string[]): string {
  if (headersSet.includes('content-security-policy')) return 'security headers';
  if (headersSet.includes('x-request-id')) return 'request id header (and the closing check)';
  if (headersSet.some((name) => name.startsWith('ratelimit'))) {
    return 'rate limit (counter and headers)';
  }
  if (phase === 'onResponse') return 'metrics (counter + histogram)';
  return `${phase}: ${headersSet.length ? headersSet.join(', ') : 'sets no header'}`;
}

interface Row {
  piece: string;
  us: number;
  how: string;
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL must name a scratch PostgreSQL database');
  const { loadConfig } = await dist<typeof import('../src/config.js')>('config.js');
  const { openDatabase } = await dist<typeof import('../src/db/client.js')>('db/client.js');
  const { buildApp } = await dist<typeof import('../src/app.js')>('app.js');
  const { createLogger } = await dist<typeof import('../src/lib/logger.js')>('lib/logger.js');
  const { loadCaller } =
    await dist<typeof import('../src/modules/users/caller.js')>('modules/users/caller.js');
  const { AccessTokens } =
    await dist<typeof import('../src/modules/auth/tokens.js')>('modules/auth/tokens.js');
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_URL: url,
    JWT_SECRET: randomUUID() + randomUUID(),
    PASSWORD_PEPPER: randomUUID() + randomUUID(),
    LOG_LEVEL: 'warn',
    ACCESS_TOKEN_TTL: '3600',
    RATE_LIMIT_WINDOW: '1',
    RATE_LIMIT_GLOBAL_MAX: '1000000',
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'homefront-per-request-')),
  };
  const config = loadConfig(env);
  const devNull = pino.destination({ dest: '/dev/null', sync: false });
  const logger = createLogger(config, devNull);
  const database = await openDatabase(config, logger);
  await database.migrate();
  const userId = randomUUID();
  const sessionId = randomUUID();
  await database.query(
    'bench_user',
    `insert into users (id, email, full_name, password_hash, email_verified)
     values ($1, $2, 'Per Request', 'x', true)`,
    [userId, `per-request-${userId}@example.com`],
  );
  await database.query(
    'bench_session',
    `insert into sessions (id, user_id, expires_at) values ($1, $2, now() + interval '1 hour')`,
    [sessionId, userId],
  );
  const app = await buildApp(config, { database, logger });
  let captured: { request: FastifyRequest; reply: FastifyReply; payload?: unknown } | undefined;
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url === '/users/me') captured = { request, reply, payload };
    done(null, payload);
  });
  await app.ready();
  const token = await app.accessTokens.sign({ userId, sessionId });
  const authorization = `Bearer ${token}`;
  const response = await app.inject({
    method: 'GET',
    url: '/users/me',
    headers: { authorization },
  });
  if (response.statusCode !== 200 || !captured) {
    throw new Error(`GET /users/me answered ${response.statusCode}: ${response.body}`);
  }
  const { request, reply } = captured;
  const context = (request as unknown as Record<symbol, Record<string, Hook[] | null>>)[
    Object.getOwnPropertySymbols(request).find(
      (symbol) => symbol.description === 'fastify.context',
    )!
  ]!;

  const pieces: Piece[] = [];
  const empty = {
    callback: ((_request: unknown, _reply: unknown, done: () => void) => done()) as Hook,
    promise: (async () => {}) as unknown as Hook,
  };
  pieces.push(
    { name: 'empty hook (done)', fn: () => callHook(empty.callback, request, reply) },
    { name: 'empty hook (async)', fn: () => callHook(empty.promise, request, reply) },
  );
  const phases = ['onRequest', 'preHandler', 'preSerialization', 'onSend', 'onResponse'] as const;
  const seen = new Set<string>();
  for (const phase of phases) {
    for (const [index, hook] of (context[phase] ?? []).entries()) {
      // The guard is the route's last onRequest hook and runs the database query; it is timed
      // below, piece by piece.
      if (phase === 'onRequest' && index === (context[phase]?.length ?? 0) - 1) continue;
      const payload = phase === 'onSend' ? captured.payload : undefined;
      for (const flag of Object.getOwnPropertySymbols(request)) {
        if (flag.description?.toLowerCase().includes('ratelimit')) {
          delete (request as unknown as Record<symbol, unknown>)[flag];
        }
      }
      const headersSet: string[] = [];
      const header = reply.header;
      reply.header = function (this: FastifyReply, key: string, value: unknown) {
        headersSet.push(key.toLowerCase());
        return header.call(this, key, value);
      } as typeof reply.header;
      await callHook(hook, request, reply, payload);
      reply.header = header;
      let name = hookName(phase, headersSet);
      while (seen.has(name)) name += ' (another)';
      seen.add(name);
      // The limiter counts a request once (a flag on the request); clear it so it counts again.
      const flags = Object.getOwnPropertySymbols(request).filter((symbol) =>
        symbol.description?.toLowerCase().includes('ratelimit'),
      );
      const target = request as unknown as Record<symbol, unknown>;
      pieces.push({
        name,
        fn: () => {
          for (const flag of flags) delete target[flag];
          return callHook(hook, request, reply, payload);
        },
        minus:
          hook.length >= (payload === undefined ? 3 : 4)
            ? 'empty hook (done)'
            : 'empty hook (async)',
      });
    }
  }

  // The request id: the app's genReqId (src/app.ts) on a request without X-Request-Id.
  const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
  const headers: Record<string, string | undefined> = {};
  pieces.push({
    name: 'request id (genReqId: randomUUID)',
    fn: () => {
      const incoming = headers['x-request-id'];
      return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming)
        ? incoming
        : randomUUID();
    },
  });

  // Logging: Fastify makes a child logger per request; at info it writes two lines.
  const infoLogger = createLogger({ logLevel: 'info' }, devNull);
  pieces.push(
    {
      name: 'logging before: pino’s child per request (LOG_LEVEL=warn, as the bench runs)',
      fn: () => {
        const log = logger.child({ reqId: 'req-1' }, {});
        log.info({ req: request }, 'incoming request');
        log.info({ res: reply, responseTime: 1.2 }, 'request completed');
      },
    },
    {
      name: 'logging at LOG_LEVEL=info: child + "incoming request" + "request completed"',
      fn: () => {
        const child = infoLogger.child({ reqId: 'req-1' }, {});
        child.info({ req: request }, 'incoming request');
        child.info({ res: reply, responseTime: 1.2 }, 'request completed');
      },
      calls: CALLS / 5,
    },
  );

  // Before and after, side by side: the request metrics as prom-client's Counter + Histogram
  // observed per request (what plugins/metrics.ts did) and as RequestSeries (what it does).
  const { Counter, Histogram, Registry } = await import('prom-client');
  const { RequestSeries } =
    await dist<typeof import('../src/plugins/metrics.js')>('plugins/metrics.js');
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const counter = new Counter({ name: 'c', help: 'c', labelNames, registers: [registry] });
  const histogram = new Histogram({
    name: 'h',
    help: 'h',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const series = new RequestSeries();
  pieces.push(
    {
      name: 'metrics before: prom-client Counter.inc + Histogram.observe per request',
      fn: () => {
        const labels = { method: 'GET', route: '/users/me', status: String(reply.statusCode) };
        counter.inc(labels);
        histogram.observe(labels, reply.elapsedTime / 1000);
      },
    },
    {
      name: 'metrics after: RequestSeries.record (one record per series)',
      fn: () => series.record('GET', '/users/me', reply.statusCode, reply.elapsedTime / 1000),
    },
  );

  // Before and after: the per-request logger as pino's child and as RequestLogger, at warn.
  const { RequestLogger } = await dist<typeof import('../src/lib/logger.js')>('lib/logger.js');
  pieces.push({
    name: 'logging after: RequestLogger (the child made on the first line written), warn',
    fn: () => {
      const log = new RequestLogger(logger, { reqId: 'req-1' });
      log.info({ req: request }, 'incoming request');
      log.info({ res: reply, responseTime: 1.2 }, 'request completed');
    },
  });

  // Serialisation: the route's compiled response serialiser on the answer's object.
  const me = JSON.parse(response.body) as Record<string, unknown>;
  const meObject = {
    ...me,
    createdAt: new Date(me.createdAt as string),
    updatedAt: new Date(me.updatedAt as string),
  };
  pieces.push({
    name: 'serialisation (the route’s User schema)',
    fn: () => reply.serialize(meObject),
  });

  // JWT: cached path (every request after a token's first) and the full verification.
  const bearer = /^Bearer ([A-Za-z0-9_\-.=+/]{10,4096})$/i;
  const fresh = () => new AccessTokens(config, { now: () => new Date() });
  const uncached = fresh() as unknown as { verifySignedToken(t: string): Promise<unknown> };
  pieces.push(
    {
      name: 'JWT check (cached: every request after a token’s first)',
      fn: () => app.accessTokens.verify(bearer.exec(authorization)![1]!),
    },
    {
      name: 'JWT check (full HS256 verification: a token’s first request)',
      fn: () => uncached.verifySignedToken(token),
      calls: CALLS / 20,
    },
  );

  // Routing: find-my-way's lookup in the app's own route table.
  pieces.push({
    name: 'Fastify’s routing (find-my-way lookup)',
    fn: () => app.hasRoute({ method: 'GET', url: '/users/me' }),
  });

  // The session and grants query on the app's pool, 16 in flight as under load: this
  // process's CPU per query.
  const IN_FLIGHT = 16;
  pieces.push({
    name: `session and grants query (loadCaller, node-postgres, ${IN_FLIGHT} in flight; client CPU only)`,
    fn: () =>
      Promise.all(
        Array.from({ length: IN_FLIGHT }, () =>
          loadCaller(database, userId, sessionId, new Date()),
        ),
      ),
    calls: QUERIES / IN_FLIGHT,
    per: IN_FLIGHT,
  });
  // The whole request through inject, for scale (inject's own fake socket work included).
  pieces.push({
    name: 'the whole GET /users/me through inject (for scale)',
    fn: () => app.inject({ method: 'GET', url: '/users/me', headers: { authorization } }),
    calls: QUERIES,
  });
  let wall = 0;

  console.log(`${pieces.length} pieces, ${ROUNDS} rounds`);
  const since = performance.now();
  const figures = await measureAll(pieces);
  const roundTrip = performance.now();
  for (let i = 0; i < QUERIES; i++) await loadCaller(database, userId, sessionId, new Date());
  wall = ((performance.now() - roundTrip) * 1000) / QUERIES;

  const rows: Row[] = pieces
    .filter((piece) => !piece.name.startsWith('empty hook'))
    .map((piece) => ({ piece: piece.name, us: figures.get(piece.name)!, how: '' }));
  rows.sort((a, b) => b.us - a.us);

  const load = os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');
  const md = [
    `# GET /users/me, piece by piece (${new Date().toISOString()})`,
    '',
    `\`DATABASE_URL=… npx tsx bench/per-request.ts${quick ? ' --quick' : ''}\` · Node ${process.version} · ${os.cpus().length} cores · load average at the end ${load} (shared machine) · ${((performance.now() - since) / 1000).toFixed(0)} s.`,
    '',
    `Each row is one piece of the request called alone, in a loop, on the request and reply of a real GET /users/me of the production build (the hooks are the route's own, taken from its context): the median over ${ROUNDS} interleaved rounds of this process's CPU time per call. A hook's row has the cost of calling an empty hook the same way subtracted. The session and grants query is one call at a time on the app's pool: ${wall.toFixed(0)} µs round trip; its row is the Node side only (building the statement, pg's protocol and row parsing).`,
    '',
    '| piece | µs CPU per request |',
    '|---|---:|',
    ...rows.map((row) => `| ${row.piece} | ${row.us.toFixed(2)} |`),
    '',
    `Empty hook, for reference: ${figures.get('empty hook (done)')!.toFixed(2)} µs with a callback, ${figures.get('empty hook (async)')!.toFixed(2)} µs async.`,
    '',
  ].join('\n');
  const results = path.join(ROOT, 'bench/results');
  mkdirSync(results, { recursive: true });
  writeFileSync(path.join(results, quick ? 'per-request-quick.md' : 'per-request.md'), md);
  console.log(md);
  await app.close();
}

await main();
process.exit(0);
