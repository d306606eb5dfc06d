import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { type CounterStore, MemoryCounterStore, RedisCounterStore } from '../lib/counter-store.js';
import { canonicalEmail } from '../lib/email.js';
import { rateLimited } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The counters of the per-email limits (login throttle, mail caps): Redis or in-process. */
    counters: CounterStore;
    /** The limits a route declares for itself, beyond the global one every route has. */
    rateLimits: RouteRateLimits;
  }
}

export interface RouteRateLimits {
  /**
   * Route config: the stricter per-address limit of the sensitive auth routes, counted per
   * path (`config: app.rateLimits.auth('/auth/login')`).
   */
  auth(path: string): { rateLimit: { max: number; timeWindow: number; groupId: string } };
  /** Route config: no limit at all, for probes and scrapes (`config: app.rateLimits.none`). */
  none: { rateLimit: false };
  /**
   * preHandler: the route mails the body's email, so it is capped per address per hour. Counted
   * before the mail is queued, and the count it returns is the one checked: atomic.
   */
  mailsPerEmail: preHandlerAsyncHookHandler;
  /**
   * preHandler, so after the guard (`preHandler: app.rateLimits.messagesPerUser`): messages one
   * signed-in user may post per window (`MESSAGE_RATE_LIMIT` per `RATE_LIMIT_WINDOW`), counted
   * per user, not per address, on top of the global limit. Its 429 is never recorded as an
   * Idempotency-Key's answer (the plugin releases the key), so a retry with the key runs again.
   */
  messagesPerUser: preHandlerAsyncHookHandler;
}

/** The mailbox the body names, canonical, so every spelling of it shares one count. */
function bodyEmail(request: FastifyRequest): string | undefined {
  const body = request.body as
    | { email?: unknown; username?: unknown; newEmail?: unknown }
    | undefined;
  const email = body?.email ?? body?.username ?? body?.newEmail;
  return typeof email === 'string' ? canonicalEmail(email) : undefined;
}

/**
 * Rate limits: a global per-address limit, stricter per-address limits on the auth routes, and a
 * cap on mails per address; the counters of the login throttle per normalised email (rotating
 * addresses does not help; see LoginThrottle) are decorated for the auth service. Counters live
 * in Redis when REDIS_URL is set, so instances share them; when Redis is unreachable the limits
 * fail open and say so in the log.
 */
async function rateLimits(app: FastifyInstance) {
  const { rateLimit: limits, redisUrl, redisKeyPrefix } = app.config;
  const windowMs = limits.windowSeconds * 1000;

  // Loaded only when configured: a single instance without Redis never pays its memory.
  const redis = redisUrl
    ? new (await import('ioredis')).Redis(redisUrl, {
        // Fail fast while Redis is down instead of queueing requests behind it.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        commandTimeout: 500,
        lazyConnect: false,
      })
    : undefined;
  redis?.on('error', (error) => app.log.warn({ err: error.message }, 'redis unavailable'));
  const counters: CounterStore = redis
    ? new RedisCounterStore(redis, app.log, `${redisKeyPrefix}counter:`)
    : new MemoryCounterStore(() => app.clock.now().getTime());
  app.decorate('counters', counters);
  // Without the offline queue, commands fail (open) until the connection is up: give it its
  // connect timeout before serving, so a fresh instance does not start with its limits open.
  app.addHook('onReady', async () => {
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        redis.off('error', done);
        resolve();
      };
      const timer = setTimeout(done, 2_000);
      redis.once('ready', done);
      redis.once('error', done);
    });
  });
  app.addHook('onClose', async () => {
    redis?.disconnect();
  });

  app.decorate('rateLimits', {
    auth: (path: string) => ({
      rateLimit: { max: limits.authMax, timeWindow: windowMs, groupId: path },
    }),
    none: { rateLimit: false },
    mailsPerEmail: async (request: FastifyRequest) => {
      const email = bodyEmail(request);
      if (!email) return;
      const { count, resetMs } = await counters.hit(`mails:${email}`, 3_600_000);
      if (count > limits.mailsPerEmailPerHour) {
        throw rateLimited(
          resetMs,
          'Too many messages requested for this address; try again later.',
        );
      }
    },
    messagesPerUser: async (request: FastifyRequest) => {
      const userId = request.caller?.id;
      if (!userId) return; // the guard before it refused the request already
      const { count, resetMs } = await counters.hit(`messages:${userId}`, windowMs);
      if (count > limits.messagesPerUser) {
        throw rateLimited(
          resetMs,
          `At most ${limits.messagesPerUser} messages per ${limits.windowSeconds} s; try again later.`,
        );
      }
    },
  } satisfies RouteRateLimits);

  await app.register(rateLimit, {
    global: true,
    max: limits.globalMax,
    timeWindow: windowMs,
    hook: 'onRequest',
    enableDraftSpec: true,
    skipOnError: true,
    nameSpace: `${redisKeyPrefix}rl:`,
    ...(redis && { redis }),
    errorResponseBuilder: (_request, context) =>
      rateLimited(context.ttl, `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`),
  });
}

export default fp(rateLimits, { name: 'rate-limits', dependencies: ['errors'] });
