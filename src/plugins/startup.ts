import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Registers work that must finish (in order) before the service is ready, e.g. the first admin. */
    onDatabaseReady(task: () => Promise<void>): void;
    /** Resolves once migrations and every startup task have run; the server listens before that. */
    untilStarted(): Promise<void>;
  }
}

const RETRY_MS = [250, 500, 1000, 2000, 5000];

/**
 * Migrations and startup tasks run after listen and are retried until the database answers, so a
 * database that is down at start gives a live process with readiness 503 rather than a crash loop.
 */
async function startup(app: FastifyInstance) {
  const tasks: Array<() => Promise<void>> = [];
  let closed = false;
  let started: Promise<void> | undefined;

  const run = async () => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await app.database.migrate();
        for (const task of tasks) await task();
        app.log.info('database migrated; startup tasks done');
        return;
      } catch (error) {
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] ?? 5000;
        app.log.error({ err: error, retryInMs: delay }, 'startup against the database failed');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  };

  app.decorate('onDatabaseReady', (task: () => Promise<void>) => {
    tasks.push(task);
  });
  app.decorate('untilStarted', () => {
    started ??= run();
    return started;
  });
  app.addHook('onReady', async () => {
    void app.untilStarted();
  });
  app.addHook('onClose', async () => {
    closed = true;
    await app.database.close();
  });
}

export default fp(startup, { name: 'startup' });
