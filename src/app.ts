import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifySerializerCompiler } from 'fastify';
import type { Logger } from 'pino';
import { buildServices, callerSource, registerModules } from './composition.js';
import type { Config } from './config.js';
import type { Database, Db } from './db/client.js';
import { type Clock, systemClock } from './lib/clock.js';
import { AppError, serviceUnavailable } from './lib/errors.js';
import { LazySchemas } from './lib/lazy-schemas.js';
import { createLogger, requestLogger } from './lib/logger.js';
import { validatorCompiler } from './lib/validation.js';
import type { PasswordHasher } from './modules/auth/passwords.js';
import { AccessTokens } from './modules/auth/tokens.js';
import type { NotificationsService } from './modules/notifications/service.js';
import auth from './plugins/auth.js';
import { clientErrorHandler } from './plugins/client-errors.js';
import corsPolicy from './plugins/cors.js';
import errors, { sendProblem } from './plugins/errors.js';
import idempotency from './plugins/idempotency.js';
import jobs from './plugins/jobs.js';
import mail from './plugins/mail.js';
import metrics from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import rateLimits from './plugins/rate-limit.js';
import securityHeaders, { securityHeadersFor } from './plugins/security-headers.js';
import startup from './plugins/startup.js';

export interface AppDeps {
  database: Database;
  clock?: Clock;
  logger?: Logger;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: Database;
    db: Db;
    clock: Clock;
    /** For tools and tests that seed accounts; the services get theirs from the composition root. */
    passwords: PasswordHasher;
    accessTokens: AccessTokens;
    /** For tools and tests that write notifications; modules get the service from the composition root. */
    notifications: NotificationsService;
    /** Compiles the route schemas no request has compiled yet (see LazySchemas). */
    compileSchemas(): Promise<number>;
  }
}

/**
 * Fastify treats a numeric trustProxy as "trust nobody"; a hop count becomes a function that
 * trusts the nearest `hops` addresses of the X-Forwarded-For chain.
 */
function trustProxyOption(trust: Config['trustProxy']) {
  if (typeof trust !== 'number') return trust;
  return (_address: string, hop: number) => hop < trust;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The one factory that builds the whole service, for production and tests alike. */
export async function buildApp(config: Config, deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger(config),
    // Each request's child logger is made on its first line written (see RequestLogger).
    childLoggerFactory: requestLogger,
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    // Longer than a reverse proxy's idle timeout (Traefik, ALB: 60 s), so the proxy closes first.
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // We answer requests that arrive while closing ourselves, as problem+json.
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming)
        ? incoming
        : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // Errors raised by the router before any hook (bad URL encoding, over-long path parameters).
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      reply.headers(securityHeadersFor(request.url));
      sendProblem(
        request,
        reply,
        new AppError(400, 'validation_failed', `The request URL is not valid (${error.code}).`),
      );
    },
    // Errors of Node's HTTP parser, before any request exists (431, 408, malformed requests).
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  (app.server as Server).headersTimeout = config.headersTimeoutMs;
  // Fastify ships a text/plain parser; this API takes JSON (and one form), anything else is 415.
  app.removeContentTypeParser('text/plain');
  // Schemas compile on first use, and the rest once the server listens (src/server.ts).
  const schemas = new LazySchemas();
  app.setValidatorCompiler(schemas.validators(validatorCompiler));
  // Fastify's own default, fast-json-stringify (whose types want an httpStatus Fastify always gives).
  const defaultSerializers = SerializerSelector()() as FastifySerializerCompiler<unknown>;
  app.setSerializerCompiler(schemas.serializers(defaultSerializers));
  app.decorate('compileSchemas', () => schemas.compileAll());

  app.decorate('config', config);
  app.decorate('database', deps.database);
  app.decorate('db', deps.database.db);
  app.decorate('clock', deps.clock ?? systemClock);

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Answers given while closing end their connection, so keep-alive clients let the server exit.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  await app.register(startup);
  await app.register(errors);
  await app.register(securityHeaders);
  // After the security headers' hook: an onRequest error skips the hooks behind it, and the 503
  // answered while closing must carry those headers like any other answer.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (closing) {
      reply.header('connection', 'close');
      done(serviceUnavailable('The server is shutting down.'));
      return;
    }
    done();
  });
  await app.register(corsPolicy);
  await app.register(rateLimits);
  const accessTokens = new AccessTokens(config, app.clock);
  app.decorate('accessTokens', accessTokens);
  await app.register(auth, callerSource(app.database, accessTokens));
  // After auth: a route's idempotency keys are scoped to the caller its guard loads.
  await app.register(idempotency);
  await app.register(openapi);
  await app.register(metrics);
  await app.register(jobs);
  await app.register(mail);

  const services = buildServices(app, accessTokens);
  app.decorate('passwords', services.passwords);
  app.decorate('notifications', services.notifications);
  await app.register(registerModules, services);

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
export type { FastifyInstance };
