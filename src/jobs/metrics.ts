import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueDepth } from './repository.js';
import type { JobObserver } from './worker.js';

/**
 * Queue depth is read from the database at each scrape (so it is the whole queue, whichever
 * instance is scraped); runs and their durations are counted by the process that ran them.
 */
export function jobMetrics(
  registry: Registry,
  depth: () => Promise<QueueDepth[]>,
  onDepthError: (error: unknown) => void,
): JobObserver {
  new Gauge({
    name: 'jobs_queue_depth',
    help: 'Jobs not yet done, by job name and state (scheduled, due, running), and jobs given up (failed)',
    labelNames: ['name', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const row of await depth()) this.set({ name: row.name, state: row.state }, row.count);
      } catch (error) {
        // A scrape while the database is down still answers, without this gauge.
        onDepthError(error);
      }
    },
  });
  const attempts = new Counter({
    name: 'jobs_attempts_total',
    help: 'Job runs by job name and outcome: succeeded, retrying (failed, will retry), failed (given up)',
    labelNames: ['name', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'jobs_run_duration_seconds',
    help: 'Time a job handler ran, by job name',
    labelNames: ['name'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  return (name, outcome, seconds) => {
    attempts.inc({ name, outcome });
    duration.observe({ name }, seconds);
  };
}
