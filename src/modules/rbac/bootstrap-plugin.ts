import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../lib/errors.js';
import type { PasswordHasher } from '../auth/passwords.js';
import { ensureAdmin } from './bootstrap.js';

/** With ADMIN_EMAIL and ADMIN_PASSWORD set, the first admin exists once the service is ready. */
async function bootstrapAdmin(app: FastifyInstance, { hasher }: { hasher: PasswordHasher }) {
  const { adminEmail, adminPassword } = app.config;
  if (!adminEmail || !adminPassword) return;
  app.onDatabaseReady(async () => {
    try {
      const outcome = await ensureAdmin(app.db, hasher, app.log, {
        email: adminEmail,
        password: adminPassword,
        now: app.clock.now(),
      });
      app.log.info({ email: adminEmail, outcome }, 'bootstrap admin checked');
    } catch (error) {
      // A weak ADMIN_PASSWORD is a configuration mistake, not a database fault: say so, don't retry.
      if (error instanceof AppError) {
        app.log.error(
          { variable: 'ADMIN_PASSWORD', problem: error.detail },
          'bootstrap admin not created',
        );
        return;
      }
      throw error;
    }
  });
}

export default fp(bootstrapAdmin, { name: 'bootstrap-admin', dependencies: ['startup'] });
