import { and, asc, eq, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs } from '../db/schema.js';

export type JobRow = typeof jobs.$inferSelect;

export interface NewJob {
  name: string;
  payload: Record<string, unknown>;
  runAt: Date;
  maxAttempts: number;
  key?: string | undefined;
}

/**
 * Inserts a job in the caller's transaction, so it exists only if that transaction commits.
 * Returns its id, or null when a job with this name and key already exists.
 */
export async function insertJob(tx: Db, job: NewJob): Promise<string | null> {
  const [row] = await tx
    .insert(jobs)
    .values({
      name: job.name,
      key: job.key ?? null,
      payload: job.payload,
      runAt: job.runAt,
      maxAttempts: job.maxAttempts,
    })
    .onConflictDoNothing({ target: [jobs.name, jobs.key] })
    .returning({ id: jobs.id });
  return row?.id ?? null;
}

const iso = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * Takes up to `limit` due jobs of the given names (the ones this instance can run) for `worker`:
 * SKIP LOCKED lets several instances claim side by side without ever taking the same row, and
 * the lease (lockedUntil, per job name) keeps the row from being claimed again while it runs.
 */
export async function claimDueJobs(
  db: Db,
  options: { leases: Map<string, number>; now: Date; limit: number; worker: string },
): Promise<JobRow[]> {
  const { leases, now, limit, worker } = options;
  const names = [...leases.keys()];
  if (names.length === 0 || limit <= 0) return [];
  const due = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.state, 'pending'),
        lte(jobs.runAt, now),
        inArray(jobs.name, names),
        or(isNull(jobs.lockedUntil), lte(jobs.lockedUntil, now)),
      ),
    )
    .orderBy(asc(jobs.runAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  const leaseEnds: SQL[] = [...leases].map(
    ([name, seconds]) => sql`when ${name} then ${iso(new Date(now.getTime() + seconds * 1000))}`,
  );
  return db
    .update(jobs)
    .set({
      attempts: sql`${jobs.attempts} + 1`,
      lockedUntil: sql`case ${jobs.name} ${sql.join(leaseEnds, sql` `)} end`,
      lockedBy: worker,
    })
    .where(inArray(jobs.id, due))
    .returning();
}

/** Guards every outcome: only the claim that is still current (same attempt) may record it. */
const stillClaimed = (job: JobRow) =>
  and(eq(jobs.id, job.id), eq(jobs.attempts, job.attempts), eq(jobs.state, 'pending'));

/** Records success; false when the claim was lost (the lease ran out and another run began). */
export async function markJobDone(db: Db, job: JobRow, now: Date): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({ state: 'done', finishedAt: now, lockedUntil: null, lockedBy: null, lastError: null })
    .where(stillClaimed(job))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/** Records a failed run: due again at `retryAt`, or given up (`failed`) when retryAt is null. */
export async function markJobFailed(
  db: Db,
  job: JobRow,
  options: { now: Date; error: string; retryAt: Date | null },
): Promise<boolean> {
  const { now, error, retryAt } = options;
  const rows = await db
    .update(jobs)
    .set(
      retryAt
        ? { runAt: retryAt, lockedUntil: null, lockedBy: null, lastError: error }
        : { state: 'failed', finishedAt: now, lockedUntil: null, lockedBy: null, lastError: error },
    )
    .where(stillClaimed(job))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

export interface QueueDepth {
  name: string;
  state: 'scheduled' | 'due' | 'running' | 'failed';
  count: number;
}

/** Pending jobs by name and where they stand at `now`, and jobs given up. */
export async function queueDepth(db: Db, now: Date): Promise<QueueDepth[]> {
  const at = iso(now);
  const result = (await db.execute(sql`
    select name,
           case when locked_until > ${at} then 'running'
                when run_at > ${at} then 'scheduled'
                else 'due' end as state,
           count(*)::int as count
      from jobs where state = 'pending' group by 1, 2
    union all
    select name, 'failed', count(*)::int from jobs where state = 'failed' group by 1
  `)) as unknown as { rows: QueueDepth[] };
  return result.rows;
}
