import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database, Db } from './db/client.js';
import { clientErrorHandler } from './lib/client-errors.js';
import { type Clock, systemClock } from './lib/clock.js';
import { AppError, serviceUnavailable } from './lib/errors.js';
import { createLogger } from './lib/logger.js';
import { validatorCompiler } from './lib/validation.js';
import { LoginThrottle } from './modules/auth/login-throttle.js';
import { PasswordHasher } from './modules/auth/passwords.js';
import { publicAuthRoutes, sessionRoutes } from './modules/auth/routes.js';
import { AuthService } from './modules/auth/service.js';
import healthRoutes from './modules/health/routes.js';
import { accountPages } from './modules/pages/routes.js';
import propertiesRoutes from './modules/properties/routes.js';
import adminRoutes from './modules/rbac/routes.js';
import retention from './modules/retention/plugin.js';
import catalogRoutes from './modules/services/catalog-routes.js';
import servicesRoutes from './modules/services/routes.js';
import usersRoutes from './modules/users/routes.js';
import auth from './plugins/auth.js';
import bootstrapAdmin from './plugins/bootstrap-admin.js';
import corsPolicy from './plugins/cors.js';
import errors, { sendProblem } from './plugins/errors.js';
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
    passwords: PasswordHasher;
    authService: AuthService;
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
  app.setValidatorCompiler(validatorCompiler);

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
  await app.register(auth);
  await app.register(openapi);
  await app.register(metrics);
  await app.register(jobs);
  await app.register(mail);

  const passwords = new PasswordHasher(config.passwordPepper, config.bcryptCost);
  app.decorate('passwords', passwords);
  app.decorate(
    'authService',
    new AuthService({
      db: app.db,
      config,
      clock: app.clock,
      hasher: passwords,
      loginThrottle: new LoginThrottle(
        app.counters,
        config.rateLimit.loginFailuresPerEmail,
        config.rateLimit.windowSeconds * 1000,
        app.log,
      ),
      accessTokens: app.accessTokens,
      sealer: app.mail.sealer,
      mail: app.jobs,
      logger: app.log,
    }),
  );

  await app.register(bootstrapAdmin);
  await app.register(retention);

  await app.register(healthRoutes);
  await app.register(publicAuthRoutes);
  await app.register(sessionRoutes);
  await app.register(accountPages);
  await app.register(usersRoutes);
  await app.register(adminRoutes);
  await app.register(propertiesRoutes);
  await app.register(servicesRoutes);
  await app.register(catalogRoutes);

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
export type { FastifyInstance };
