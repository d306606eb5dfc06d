import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Db } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import { backoffSeconds, type Job, type JobRegistry, periodKey, periodSlot } from './registry.js';
import { claimDueJobs, insertJob, type JobRow, markJobDone, markJobFailed } from './repository.js';

export type JobOutcome = 'succeeded' | 'retrying' | 'failed';

/** Told about every finished run (metrics). */
export type JobObserver = (name: string, outcome: JobOutcome, seconds: number) => void;

export interface JobWorkerDeps {
  db: Db;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  observe?: JobObserver;
}

/** Jobs run at the same time by one process; more wait for a free slot. */
const CONCURRENCY = 5;
const POLL_MS = 2_000;

/**
 * Runs due jobs: claims them into free slots (one query for every job name), runs their handlers,
 * records the outcome, and retries failures with backoff. A poll every 2 s finds jobs that came
 * due; wake() runs a pass at once (after a commit that scheduled something due now).
 */
export class JobWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly active = new Set<Promise<void>>();
  private closing = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly deps: JobWorkerDeps) {}

  /** Starts polling; safe to call again (a retried startup does). */
  async start(): Promise<void> {
    await this.ensurePeriodic();
    if (!this.stopped) return;
    this.stopped = false;
    this.closing = new AbortController();
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  /** Stops claiming, asks long runs to stop (signal), and waits for the runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closing.abort();
    if (this.timer) clearInterval(this.timer);
    await this.filling;
    await Promise.all(this.active);
  }

  /** Claims and starts due jobs now (or right after the pass under way); never rejects. */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = this.fill()
      .catch((error) => this.deps.logger.warn({ err: error }, 'job queue pass failed'))
      .finally(() => {
        this.filling = undefined;
        if (this.again) {
          this.again = false;
          void this.wake();
        }
      });
    return this.filling;
  }

  /**
   * Runs every job that is due on the app's clock, and what those runs make due, and resolves
   * when they have finished: what tests call after moving a ManualClock.
   */
  async runDue(): Promise<void> {
    for (;;) {
      await this.wake();
      await this.filling;
      if (this.active.size === 0) return;
      await Promise.all(this.active);
    }
  }

  private async fill(): Promise<void> {
    const { registry, clock, db } = this.deps;
    for (;;) {
      const free = CONCURRENCY - this.active.size;
      if (free <= 0 || this.stopped) return;
      const leases = new Map(registry.all().map((job) => [job.name, job.leaseSeconds]));
      const claimed = await claimDueJobs(db, {
        leases,
        now: clock.now(),
        limit: free,
        worker: this.id,
      });
      for (const row of claimed) this.launch(row, registry.get(row.name));
      if (claimed.length < free) return;
    }
  }

  private launch(row: JobRow, job: Job) {
    const run = this.execute(row, job)
      .catch((error) =>
        this.deps.logger.warn({ err: error, jobId: row.id }, 'job bookkeeping failed'),
      )
      .finally(() => {
        this.active.delete(run);
        void this.wake();
      });
    this.active.add(run);
  }

  private async execute(row: JobRow, job: Job) {
    const { clock, logger, observe } = this.deps;
    const started = performance.now();
    const context = {
      id: row.id,
      name: row.name,
      key: row.key,
      attempt: row.attempts,
      maxAttempts: row.maxAttempts,
      now: clock.now(),
      signal: this.closing.signal,
    };
    let outcome: JobOutcome;
    let failure: unknown;
    try {
      await job.run(row.payload, context);
      outcome = 'succeeded';
    } catch (error) {
      failure = error;
      outcome = row.attempts >= row.maxAttempts ? 'failed' : 'retrying';
    }
    const seconds = (performance.now() - started) / 1000;
    const recorded =
      failure === undefined
        ? await this.succeeded(row, job)
        : await this.failed(row, job, failure, outcome === 'failed');
    observe?.(row.name, outcome, seconds);
    if (!recorded) {
      logger.warn(
        { jobId: row.id, job: row.name, attempt: row.attempts },
        'job outlived its lease; another run took it over',
      );
    }
  }

  private async succeeded(row: JobRow, job: Job): Promise<boolean> {
    const { db, clock, logger } = this.deps;
    const now = clock.now();
    const done = job.everySeconds
      ? await db.transaction(async (tx) => {
          const marked = await markJobDone(tx, row, now);
          if (marked) await this.scheduleNextPeriod(tx, job, now);
          return marked;
        })
      : await markJobDone(db, row, now);
    logger.debug({ jobId: row.id, job: row.name, attempt: row.attempts }, 'job done');
    return done;
  }

  private async failed(row: JobRow, job: Job, error: unknown, giveUp: boolean): Promise<boolean> {
    const { db, clock, logger } = this.deps;
    const now = clock.now();
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    const retryAt = giveUp
      ? null
      : new Date(now.getTime() + backoffSeconds(job, row.attempts) * 1000);
    logger.warn(
      { jobId: row.id, job: row.name, attempt: row.attempts, giveUp, retryAt, err: message },
      'job failed',
    );
    if (giveUp && job.everySeconds) {
      return db.transaction(async (tx) => {
        const marked = await markJobFailed(tx, row, { now, error: message, retryAt });
        if (marked) await this.scheduleNextPeriod(tx, job, now);
        return marked;
      });
    }
    return markJobFailed(db, row, { now, error: message, retryAt });
  }

  /**
   * Every instance makes sure the current and the next interval of each periodic job have their
   * run; the keys make them agree, so each interval runs once whoever starts first.
   */
  private async ensurePeriodic() {
    const { db, registry, clock } = this.deps;
    const now = clock.now();
    for (const job of registry.all()) {
      if (!job.everySeconds) continue;
      const slot = periodSlot(job.everySeconds, now);
      await insertJob(db, {
        name: job.name,
        key: periodKey(job.everySeconds, slot),
        payload: {},
        runAt: now,
        maxAttempts: job.maxAttempts,
      });
      await this.scheduleNextPeriod(db, job, now);
    }
  }

  private async scheduleNextPeriod(tx: Db, job: Job, now: Date) {
    if (!job.everySeconds) return;
    const next = periodSlot(job.everySeconds, now) + 1;
    await insertJob(tx, {
      name: job.name,
      key: periodKey(job.everySeconds, next),
      payload: {},
      runAt: new Date(next * job.everySeconds * 1000),
      maxAttempts: job.maxAttempts,
    });
  }
}
