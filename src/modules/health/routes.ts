import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { serviceUnavailable } from '../../lib/errors.js';
import { errors } from '../../lib/schemas.js';
import { VERSION } from '../../lib/version.js';

const Status = Type.Object(
  {
    status: Type.Literal('ok'),
    version: Type.String({ description: "The running release: package.json's version." }),
  },
  { title: 'HealthStatus', description: 'The service answers' },
);

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Probes hit these every few seconds: log them only at warn, unless the app is quieter still.
  const quieter = ['error', 'fatal', 'silent'].includes(app.config.logLevel);
  const logLevel = quieter ? app.config.logLevel : 'warn';

  app.get(
    '/health/live',
    {
      logLevel,
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        description: 'Answers 200 while the process serves requests, whatever the database does.',
        operationId: 'getLiveness',
        response: { 200: Status, ...errors() },
      },
    },
    async () => ({ status: 'ok' as const, version: VERSION }),
  );

  app.get(
    '/health/ready',
    {
      logLevel,
      schema: {
        tags: ['operations'],
        summary: 'Readiness',
        description:
          'Answers 200 once migrations and every startup task (the bootstrap admin among them) have finished, while the database answers and no migration is pending; 503 otherwise.',
        operationId: 'getReadiness',
        response: { 200: Status, ...errors() },
      },
    },
    async (request) => {
      if (!app.started) {
        throw serviceUnavailable('The service is starting: migrations and startup tasks run.');
      }
      let pending: number;
      try {
        pending = await app.database.pendingMigrations();
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        throw serviceUnavailable('The database is not answering.');
      }
      if (pending > 0) throw serviceUnavailable(`${pending} database migration(s) are pending.`);
      return { status: 'ok' as const, version: VERSION };
    },
  );
};

export default healthRoutes;
