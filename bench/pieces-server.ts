import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyPluginAsync } from 'fastify';

/**
 * A bare Fastify route with the app's own per-request pieces added one by one (PIECES, a comma
 * list), each imported from the compiled dist/, to price each under real HTTP load:
 *
 * - `request-id`: the app's genReqId (X-Request-Id if sane, else randomUUID) and its header hook;
 * - `security-headers`: plugins/security-headers.js;
 * - `rate-limit`: plugins/rate-limit.js (the in-process counters, limits as the bench sets them);
 * - `metrics`: plugins/metrics.js (it needs the rate limit's route config: run it with that);
 * - `logging`: the app's logger (lib/logger.js) at LOG_LEVEL (warn by default, as the bench runs
 *   the app) to stdout, so Fastify makes a child logger per request;
 * - `schema`: the route answers through the User response schema (fast-json-stringify) instead
 *   of JSON.stringify.
 *
 * The route answers what GET /users/me answers, without the database.
 */

const port = Number(process.env.PORT ?? 3997);
const pieces = new Set(
  (process.env.PIECES ?? '')
    .split(',')
    .map((piece) => piece.trim())
    .filter(Boolean),
);
const known = ['request-id', 'security-headers', 'rate-limit', 'metrics', 'logging', 'schema'];
for (const piece of pieces) {
  if (!known.includes(piece)) throw new Error(`PIECES: unknown "${piece}" (${known.join(', ')})`);
}
const root = process.env.BENCH_ROOT ?? process.cwd();
const dist = async <T>(file: string) =>
  (await import(pathToFileURL(`${root}/dist/${file}`).href)) as T;
const plugin = async (file: string) => (await dist<{ default: FastifyPluginAsync }>(file)).default;

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const { createLogger } = await dist<typeof import('../src/lib/logger.js')>('lib/logger.js');
const app = Fastify({
  ...(pieces.has('logging')
    ? { loggerInstance: createLogger({ logLevel: (process.env.LOG_LEVEL ?? 'warn') as 'warn' }) }
    : { logger: false }),
  ...(pieces.has('request-id') && {
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming)
        ? incoming
        : randomUUID();
    },
  }),
});

app.decorate('config', {
  rateLimit: {
    windowSeconds: 1,
    globalMax: 1_000_000,
    authMax: 100_000,
    mailsPerEmailPerHour: 10_000,
  },
  redisKeyPrefix: 'bench:',
} as never);
app.decorate('clock', { now: () => new Date() } as never);
if (pieces.has('security-headers')) await app.register(await plugin('plugins/security-headers.js'));
if (pieces.has('request-id')) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
}
if (pieces.has('rate-limit') || pieces.has('metrics')) {
  await app.register(await plugin('plugins/errors.js'));
  await app.register(await plugin('plugins/rate-limit.js'));
}
if (pieces.has('metrics')) await app.register(await plugin('plugins/metrics.js'));

const { User } = await dist<{ User: object }>('modules/users/schemas.js');
const me = {
  id: randomUUID(),
  email: 'someone@example.com',
  fullName: 'Some One',
  phone: null,
  emailVerified: true,
  isActive: true,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-02T00:00:00Z'),
  roles: ['homeowner'],
  permissions: ['catalog:read', 'properties:read', 'properties:write'],
};
app.get(
  '/bench',
  pieces.has('schema') ? { schema: { response: { 200: User } } } : {},
  async () => ({
    ...me,
  }),
);
app.get('/health/ready', async () => ({ status: 'ok' }));

process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
process.on('SIGINT', () => void app.close().then(() => process.exit(0)));

await app.listen({ port, host: '127.0.0.1' });
