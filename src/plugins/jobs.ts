import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/client.js';
import { jobMetrics } from '../jobs/metrics.js';
import { JobRegistry } from '../jobs/registry.js';
import { insertJob, queueDepth } from '../jobs/repository.js';
import type { JobDefinition, ScheduleOptions } from '../jobs/types.js';
import { JobWorker } from '../jobs/worker.js';

/** The durable job queue as modules use it. */
export interface Jobs {
  /** Registers a named handler; modules do this when they are registered. */
  // biome-ignore lint/suspicious/noExplicitAny: each definition has its own payload type
  define<P extends Record<string, any>>(definition: JobDefinition<P>): void;
  /**
   * Schedules a job in the caller's transaction: it exists only if that transaction commits.
   * Returns the job's id, or null when `options.key` already names a job of this name.
   */
  schedule(
    tx: Db,
    name: string,
    payload: Record<string, unknown>,
    options?: ScheduleOptions,
  ): Promise<string | null>;
  /** Starts a pass now, for work just committed that is due at once. */
  wake(): void;
  /** Runs everything due on the app's clock and waits for it (tests, after moving the clock). */
  runDue(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Jobs;
  }
}

/** The worker starts once migrations are applied and stops, letting its runs finish, on close. */
async function jobs(app: FastifyInstance) {
  const registry = new JobRegistry();
  const logger = app.log.child({ component: 'jobs' });
  const observe = jobMetrics(
    app.metricsRegistry,
    () => queueDepth(app.db, app.clock.now()),
    (error) => logger.warn({ err: error }, 'queue depth unavailable for metrics'),
  );
  const worker = new JobWorker({ db: app.db, registry, clock: app.clock, logger, observe });

  app.decorate('jobs', {
    define: (definition) => registry.define(definition),
    async schedule(tx, name, payload, options = {}) {
      const job = registry.get(name);
      return insertJob(tx, {
        name,
        payload,
        key: options.key,
        runAt: options.runAt ?? app.clock.now(),
        maxAttempts: job.maxAttempts,
      });
    },
    wake: () => void worker.wake(),
    runDue: () => worker.runDue(),
  } satisfies Jobs);

  app.onDatabaseReady(() => worker.start());
  app.addHook('preClose', () => worker.stop());
}

export default fp(jobs, { name: 'jobs', dependencies: ['startup', 'metrics'] });
