import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { retentionJob } from './job.js';

const TABLES = [
  'mail_outbox',
  'sessions',
  'refresh_tokens',
  'one_time_tokens',
  'mfa_challenges',
  'jobs',
  'idempotency_keys',
  'notifications',
  'passkey_challenges',
  'sign_in_devices',
  'audit_events',
];

/** Retention of the growing tables: a periodic job and its metrics. */
async function retention(app: FastifyInstance) {
  const deleted = new Counter({
    name: 'retention_deleted_rows_total',
    help: 'Rows deleted by retention, by table (refresh tokens deleted with their session not counted)',
    labelNames: ['table'] as const,
    registers: [app.metricsRegistry],
  });
  for (const table of TABLES) deleted.inc({ table }, 0);
  const lastRun = new Gauge({
    name: 'retention_last_run_timestamp_seconds',
    help: 'When this process last finished a retention run (Unix time)',
    registers: [app.metricsRegistry],
  });
  app.jobs.define(
    retentionJob({
      db: app.db,
      config: app.config,
      logger: app.log.child({ component: 'retention' }),
      onDeleted: (table, rows) => deleted.inc({ table }, rows),
      onFinished: (at) => lastRun.set(at.getTime() / 1000),
    }),
  );
}

export default fp(retention, { name: 'retention', dependencies: ['jobs', 'metrics'] });
