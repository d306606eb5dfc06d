import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from './db/client.js';
import type { CallerSource } from './kernel/guards.js';
import { LoginThrottle } from './modules/auth/login-throttle.js';
import { PasswordHasher } from './modules/auth/passwords.js';
import { publicAuthRoutes, sessionRoutes } from './modules/auth/routes.js';
import { AuthService } from './modules/auth/service.js';
import type { AccessTokens } from './modules/auth/tokens.js';
import healthRoutes from './modules/health/routes.js';
import { accountPages } from './modules/pages/routes.js';
import propertiesRoutes from './modules/properties/routes.js';
import bootstrapAdmin from './modules/rbac/bootstrap-plugin.js';
import adminRoutes from './modules/rbac/routes.js';
import { AdminService } from './modules/rbac/service.js';
import retention from './modules/retention/plugin.js';
import { CatalogReader } from './modules/services/catalog.js';
import catalogRoutes from './modules/services/catalog-routes.js';
import servicesRoutes from './modules/services/routes.js';
import { loadCaller, touchSession } from './modules/users/caller.js';
import { EmailChangeService } from './modules/users/email-change.js';
import usersRoutes from './modules/users/routes.js';
import { UsersService } from './modules/users/service.js';

/*
 * The composition root: every service is built here, once, from the infrastructure that the
 * plugins decorated, and handed as options to the route plugins that use it. A module never
 * builds another module's service, and a plugin never imports a module: what the auth plugin
 * needs from the modules arrives as a CallerSource.
 */

export interface Services {
  passwords: PasswordHasher;
  auth: AuthService;
  users: UsersService;
  emailChanges: EmailChangeService;
  admin: AdminService;
  catalog: CatalogReader;
}

/** How the guards turn a bearer token into the signed-in caller. */
export function callerSource(database: Database, accessTokens: AccessTokens): CallerSource {
  return {
    verifyAccessToken: (token) => accessTokens.verify(token),
    load: (userId, sessionId, now) => loadCaller(database, userId, sessionId, now),
    touchSession: (sessionId, now) => touchSession(database, sessionId, now),
  };
}

/** Needs the infrastructure plugins registered (counters, jobs, mail). */
export function buildServices(
  app: Pick<FastifyInstance, 'config' | 'db' | 'clock' | 'log' | 'mail' | 'jobs' | 'counters'>,
  accessTokens: AccessTokens,
): Services {
  const { config, db, clock, log: logger } = app;
  const passwords = new PasswordHasher(config.passwordPepper, config.bcryptCost);
  const mailing = { sealer: app.mail.sealer, mail: app.jobs };
  return {
    passwords,
    auth: new AuthService({
      db,
      config,
      clock,
      hasher: passwords,
      loginThrottle: new LoginThrottle(
        app.counters,
        config.rateLimit.loginFailuresPerEmail,
        config.rateLimit.windowSeconds * 1000,
        logger,
      ),
      accessTokens,
      ...mailing,
      logger,
    }),
    users: new UsersService({ db, config, clock, hasher: passwords, ...mailing, logger }),
    emailChanges: new EmailChangeService({
      db,
      config,
      clock,
      hasher: passwords,
      ...mailing,
      logger,
    }),
    admin: new AdminService(db, clock, logger),
    catalog: new CatalogReader(db),
  };
}

/** The modules: their start-up work, background jobs and routes. */
async function modules(app: FastifyInstance, services: Services) {
  await app.register(bootstrapAdmin, { hasher: services.passwords });
  await app.register(retention);

  await app.register(healthRoutes);
  await app.register(publicAuthRoutes, { auth: services.auth });
  await app.register(sessionRoutes, { auth: services.auth });
  await app.register(accountPages, { auth: services.auth, emailChanges: services.emailChanges });
  await app.register(usersRoutes, { users: services.users, emailChanges: services.emailChanges });
  await app.register(adminRoutes, { admin: services.admin, users: services.users });
  await app.register(propertiesRoutes);
  await app.register(servicesRoutes);
  await app.register(catalogRoutes, { catalog: services.catalog });
}

export const registerModules = fp(modules, { name: 'modules' });
