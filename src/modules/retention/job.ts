import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { JobDefinition } from '../../jobs/types.js';
import { DEVICE_MEMORY_DAYS } from '../auth/devices.js';
import { type Cutoffs, deleteBatch, retentionTargets } from './repository.js';

export const RETENTION_JOB = 'retention';
/** Hourly: each run has little to do, and no batch holds a lock for long. */
const EVERY_SECONDS = 3600;
const DAY_MS = 86_400_000;

export function retentionCutoffs(
  config: Pick<Config, 'retention' | 'refreshTokenTtl'>,
  now: Date,
): Cutoffs {
  const { days, auditDays } = config.retention;
  const ago = (ms: number) => new Date(now.getTime() - ms);
  return {
    finished: ago(days * DAY_MS),
    usedRefreshTokens: ago(Math.max(days * DAY_MS, config.refreshTokenTtl * 1000)),
    expired: now,
    readNotifications: ago(config.retention.notificationDays * DAY_MS),
    forgottenDevices: ago(DEVICE_MEMORY_DAYS * DAY_MS),
    audit: auditDays === 0 ? null : ago(auditDays * DAY_MS),
  };
}

interface RetentionDeps {
  db: Db;
  config: Pick<Config, 'retention' | 'refreshTokenTtl'>;
  logger: Logger;
  /** Rows deleted from a table, after each batch. */
  onDeleted(table: string, rows: number): void;
  onFinished(at: Date): void;
}

/**
 * Deletes, in batches, rows past their retention age. Each batch is its own short statement,
 * so requests (and, on PGlite, the one connection) are never held up for long; closing the app
 * stops it between batches, and the next run carries on.
 */
export function retentionJob(deps: RetentionDeps): JobDefinition {
  const { db, config, logger, onDeleted, onFinished } = deps;
  const limit = config.retention.batchSize;
  return {
    name: RETENTION_JOB,
    everySeconds: EVERY_SECONDS,
    maxAttempts: 3,
    backoff: { baseSeconds: 60, maxSeconds: 600 },
    leaseSeconds: 1800,
    async run(_payload, job) {
      const report: Record<string, { deleted: number; batches: number }> = {};
      for (const { table, where } of retentionTargets(retentionCutoffs(config, job.now))) {
        const done = { deleted: 0, batches: 0 };
        report[table] = done;
        for (;;) {
          if (job.signal.aborted) {
            logger.info({ deleted: report }, 'retention interrupted by shutdown');
            return;
          }
          const rows = await deleteBatch(db, table, where, limit);
          done.batches++;
          done.deleted += rows;
          onDeleted(table, rows);
          if (rows < limit) break;
        }
      }
      onFinished(job.now);
      logger.info({ deleted: report }, 'retention done');
    },
  };
}
