import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { describeDatabaseFailure } from '../db/failures.js';
import { describeUnfolded, findUnfoldedEmails } from '../db/unfolded-emails.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Registers work that must finish (in order) before the service is ready, e.g. the first admin. */
    onDatabaseReady(task: () => Promise<void>): void;
    /** Resolves once migrations and every startup task have run; the server listens before that. */
    untilStarted(): Promise<void>;
    /** True once migrations and every startup task have run: readiness waits for it. */
    readonly started: boolean;
  }
}

const RETRY_MS = [250, 500, 1000, 2000, 5000];

/**
 * Migrations and startup tasks run after listen and are retried until the database answers, so a
 * database that is down at start gives a live process with readiness 503 rather than a crash loop.
 */
/** After an upgrade: accounts whose address migration 0007 could not fold, once, as a warning. */
async function warnUnfoldedEmails(app: FastifyInstance) {
  const unfolded = await findUnfoldedEmails(app.db);
  if (unfolded.length === 0) return;
  app.log.warn(
    { accounts: unfolded.map(describeUnfolded) },
    `${unfolded.length} account(s) have an address that is not canonical: see docs/operations.md, "Addresses that migration 0007 could not fold"`,
  );
}

async function startup(app: FastifyInstance) {
  const tasks: Array<() => Promise<void>> = [];
  let closed = false;
  let starting: Promise<void> | undefined;
  let done = false;
  let completed = 0;

  // A task that has finished is not run again when a later one fails and the whole is retried.
  const run = async () => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        if (completed === 0) {
          const pending = await app.database.pendingMigrations();
          await app.database.migrate();
          completed = 1;
          if (pending > 0) await warnUnfoldedEmails(app);
        }
        for (; completed <= tasks.length; completed++) await tasks[completed - 1]?.();
        done = true;
        app.log.info('database migrated; startup tasks done');
        return;
      } catch (error) {
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] ?? 5000;
        const cause = describeDatabaseFailure(error);
        app.log.error(
          { err: error, cause, retryInMs: delay },
          `startup against the database failed: ${cause}`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  };

  app.decorate('onDatabaseReady', (task: () => Promise<void>) => {
    tasks.push(task);
  });
  app.decorate('untilStarted', () => {
    starting ??= run();
    return starting;
  });
  app.decorate('started', {
    getter: () => done,
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
