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
import bookingRoutes from './modules/marketplace/booking-routes.js';
import requestRoutes from './modules/marketplace/request-routes.js';
import { MarketplaceService } from './modules/marketplace/service.js';
import marketplaceTimers from './modules/marketplace/timers.js';
import messagesRoutes from './modules/messages/routes.js';
import { MessagesService } from './modules/messages/service.js';
import { SignInChallenges } from './modules/mfa/challenges.js';
import { mfaAdminRoutes, mfaRoutes } from './modules/mfa/routes.js';
import { TotpSecretSealer } from './modules/mfa/secrets.js';
import { MfaService } from './modules/mfa/service.js';
import { DatabaseFanout, type Fanout, RedisFanout } from './modules/notifications/fanout.js';
import notificationsRoutes from './modules/notifications/routes.js';
import { NotificationsService } from './modules/notifications/service.js';
import { accountPages } from './modules/pages/routes.js';
import { passkeyRoutes } from './modules/passkeys/routes.js';
import { PasskeysService } from './modules/passkeys/service.js';
import propertiesRoutes from './modules/properties/routes.js';
import { PropertiesService } from './modules/properties/service.js';
import bootstrapAdmin from './modules/rbac/bootstrap-plugin.js';
import adminRoutes from './modules/rbac/routes.js';
import { AdminService } from './modules/rbac/service.js';
import retention from './modules/retention/plugin.js';
import reviewsRoutes from './modules/reviews/routes.js';
import { ReviewsService } from './modules/reviews/service.js';
import reviewsTimers from './modules/reviews/timers.js';
import { CatalogReader } from './modules/services/catalog.js';
import catalogRoutes from './modules/services/catalog-routes.js';
import servicesRoutes from './modules/services/routes.js';
import { ServicesService } from './modules/services/service.js';
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
  mfa: MfaService;
  passkeys: PasskeysService;
  users: UsersService;
  emailChanges: EmailChangeService;
  admin: AdminService;
  catalog: CatalogReader;
  marketplace: MarketplaceService;
  messages: MessagesService;
  notifications: NotificationsService;
  properties: PropertiesService;
  reviews: ReviewsService;
  services: ServicesService;
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
  app: Pick<
    FastifyInstance,
    'config' | 'database' | 'db' | 'clock' | 'log' | 'mail' | 'jobs' | 'counters'
  >,
  accessTokens: AccessTokens,
): Services {
  const { config, db, clock, log: logger } = app;
  const passwords = new PasswordHasher(config.passwordPepper, config.bcryptCost);
  const mailing = { sealer: app.mail.sealer, mail: app.jobs };
  // Redis when configured (shared by every instance), else the database's LISTEN/NOTIFY.
  const fanout: Fanout = config.redisUrl
    ? new RedisFanout(config.redisUrl, `${config.redisKeyPrefix}notifications`, db, logger)
    : new DatabaseFanout(app.database, logger);
  const notifications = new NotificationsService({
    db,
    clock,
    logger,
    fanout,
    heartbeatMs: config.notifications.heartbeatMs,
    maxStreamsPerUser: config.notifications.maxStreamsPerUser,
    sessionValid: async (userId, sessionId, now) =>
      (await loadCaller(app.database, userId, sessionId, now)) !== undefined,
  });
  const messages = new MessagesService({
    db,
    config,
    clock,
    sealer: app.mail.sealer,
    jobs: app.jobs,
    logger,
    notifications,
  });
  const marketplace = new MarketplaceService({
    db,
    config,
    clock,
    sealer: app.mail.sealer,
    jobs: app.jobs,
    logger,
    // Each transition's recipients get a notification row; its mail follows their settings.
    notifications,
    // A provider's first quote (or a direct request) opens the thread with the homeowner.
    openThread: (tx, keys) => messages.openThread(tx, keys),
  });
  const throttle = (kind: string) =>
    new LoginThrottle(
      app.counters,
      config.rateLimit.loginFailuresPerEmail,
      config.rateLimit.windowSeconds * 1000,
      logger,
      kind,
    );
  const auth = new AuthService({
    db,
    config,
    clock,
    hasher: passwords,
    loginThrottle: throttle('login-failures'),
    accessTokens,
    secondFactor: new SignInChallenges(db),
    ...mailing,
    logger,
    notifications,
  });
  return {
    passwords,
    auth,
    mfa: new MfaService({
      db,
      config,
      clock,
      hasher: passwords,
      totpSealer: new TotpSecretSealer(config.mfaEncryptionKey),
      codeThrottle: throttle('mfa-failures'),
      auth,
      ...mailing,
      logger,
    }),
    passkeys: new PasskeysService({ db, config, clock, hasher: passwords, auth, logger }),
    users: new UsersService({
      db,
      config,
      clock,
      hasher: passwords,
      ...mailing,
      logger,
      notifications,
      // A closed account's open requests are cancelled and its live quotes withdrawn.
      onAccountClosing: (tx, userId, context) => marketplace.closeAccount(tx, userId, context),
    }),
    emailChanges: new EmailChangeService({
      db,
      config,
      clock,
      hasher: passwords,
      ...mailing,
      logger,
      notifications,
    }),
    admin: new AdminService(db, clock, logger),
    catalog: new CatalogReader(db),
    marketplace,
    messages,
    notifications,
    properties: new PropertiesService({ db, clock }),
    reviews: new ReviewsService({
      db,
      clock,
      logger,
      jobs: app.jobs,
      notifications,
      prior: config.ratings,
    }),
    services: new ServicesService({
      db,
      ratingPriorMean: config.ratings.priorMean,
      // Deactivating or deleting a service withdraws the marketplace's live quotes on it.
      withdrawn: {
        run: (tx, serviceId) => marketplace.serviceWithdrawn(tx, serviceId),
        afterCommit: () => marketplace.wake(),
      },
    }),
  };
}

/** The modules: their start-up work, background jobs and routes. */
async function modules(app: FastifyInstance, services: Services) {
  await app.register(bootstrapAdmin, { hasher: services.passwords });
  await app.register(retention);
  await app.register(marketplaceTimers, { marketplace: services.marketplace });
  await app.register(reviewsTimers, { reviews: services.reviews });

  await app.register(healthRoutes);
  await app.register(publicAuthRoutes, { auth: services.auth });
  await app.register(sessionRoutes, { auth: services.auth });
  await app.register(accountPages, { auth: services.auth, emailChanges: services.emailChanges });
  await app.register(usersRoutes, { users: services.users, emailChanges: services.emailChanges });
  await app.register(mfaRoutes, { mfa: services.mfa });
  await app.register(passkeyRoutes, { passkeys: services.passkeys });
  await app.register(adminRoutes, {
    admin: services.admin,
    users: services.users,
    mfa: services.mfa,
    passkeys: services.passkeys,
  });
  await app.register(mfaAdminRoutes, { mfa: services.mfa });
  await app.register(propertiesRoutes, { properties: services.properties });
  await app.register(servicesRoutes, { services: services.services });
  await app.register(catalogRoutes, { catalog: services.catalog });
  await app.register(requestRoutes, { marketplace: services.marketplace });
  await app.register(bookingRoutes, { marketplace: services.marketplace });
  await app.register(messagesRoutes, { messages: services.messages });
  await app.register(reviewsRoutes, { reviews: services.reviews });
  await app.register(notificationsRoutes, { notifications: services.notifications });
  // Open streams would hold the server's close forever: end them first (clients reconnect).
  app.addHook('preClose', async () => {
    await services.notifications.close();
  });
}

export const registerModules = fp(modules, { name: 'modules' });
