import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { type CounterStore, MemoryCounterStore, RedisCounterStore } from '../lib/counter-store.js';
import { AppError } from '../lib/errors.js';
import { normaliseEmail } from '../modules/users/repository.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'auth': the stricter per-address limit; 'login': that plus the per-email failure throttle. */
    rateLimitGroup?: 'auth' | 'login';
    /** The route sends mail to the body's email: limited per address per hour. */
    mailsPerEmail?: boolean;
  }
}

function tooMany(retryAfterMs: number, detail: string): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError(429, 'rate_limited', detail, undefined, { 'retry-after': String(seconds) });
}

function bodyEmail(request: FastifyRequest): string | undefined {
  const body = request.body as { email?: unknown; username?: unknown } | undefined;
  const email = body?.email ?? body?.username;
  return typeof email === 'string' ? normaliseEmail(email) : undefined;
}

/**
 * Rate limits: a global per-address limit, stricter per-address limits on the auth routes, a
 * throttle on failed logins per normalised email (rotating addresses does not help), and a cap
 * on mails per address. Counters live in Redis when REDIS_URL is set, so instances share them;
 * when Redis is unreachable the limits fail open and say so in the log.
 */
async function rateLimits(app: FastifyInstance) {
  const { rateLimit: limits, redisUrl } = app.config;
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
    ? new RedisCounterStore(redis, app.log)
    : new MemoryCounterStore(() => app.clock.now().getTime());
  app.addHook('onClose', async () => {
    redis?.disconnect();
  });

  // Route groups become @fastify/rate-limit route settings; this hook must run before its own.
  app.addHook('onRoute', (route: RouteOptions) => {
    const group = route.config?.rateLimitGroup;
    if (group) {
      route.config = {
        ...route.config,
        rateLimit: { max: limits.authMax, timeWindow: windowMs, groupId: route.url },
      };
    }
    if (route.url.startsWith('/health/') || route.url === '/metrics') {
      route.config = { ...route.config, rateLimit: false };
    }
    if (group === 'login') addLoginThrottle(route);
    if (route.config?.mailsPerEmail) addMailLimit(route);
  });

  await app.register(rateLimit, {
    global: true,
    max: limits.globalMax,
    timeWindow: windowMs,
    hook: 'onRequest',
    enableDraftSpec: true,
    skipOnError: true,
    nameSpace: 'homefront:rl:',
    ...(redis && { redis }),
    errorResponseBuilder: (_request, context) =>
      tooMany(context.ttl, `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`),
  });

  function addLoginThrottle(route: RouteOptions) {
    const keyOf = (request: FastifyRequest) => {
      const email = bodyEmail(request);
      return email ? `login-failures:${email}` : undefined;
    };
    const check = async (request: FastifyRequest) => {
      const key = keyOf(request);
      if (!key) return;
      const { count, resetMs } = await counters.peek(key);
      if (count >= limits.loginFailuresPerEmail) {
        request.log.warn({ event: 'auth.login_throttled' }, 'login throttled for this email');
        throw tooMany(resetMs, 'Too many failed sign-ins for this account; try again later.');
      }
    };
    const record = async (request: FastifyRequest, reply: FastifyReply) => {
      const key = keyOf(request);
      if (!key) return;
      if (reply.statusCode === 401) await counters.hit(key, windowMs);
      else if (reply.statusCode === 200) await counters.reset(key);
    };
    route.preHandler = [...[route.preHandler ?? []].flat(), check];
    route.onResponse = [...[route.onResponse ?? []].flat(), record];
  }

  function addMailLimit(route: RouteOptions) {
    const limit = async (request: FastifyRequest) => {
      const email = bodyEmail(request);
      if (!email) return;
      const { count, resetMs } = await counters.hit(`mails:${email}`, 3_600_000);
      if (count > limits.mailsPerEmailPerHour) {
        throw tooMany(resetMs, 'Too many messages requested for this address; try again later.');
      }
    };
    route.preHandler = [...[route.preHandler ?? []].flat(), limit];
  }
}

export default fp(rateLimits, { name: 'rate-limits', dependencies: ['errors'] });
