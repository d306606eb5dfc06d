import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, mailOutbox } from '../../src/db/schema.js';
import { periodKey, periodSlot } from '../../src/jobs/registry.js';
import { insertJob } from '../../src/jobs/repository.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { defineRecorder, jobRows, metric } from './support.js';

const DAY = 86_400;

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('scheduling', () => {
  it('belongs to the caller’s transaction: a rollback leaves no job', async () => {
    const runs = defineRecorder(t, 'test.rollback');
    await expect(
      t.app.db.transaction(async (tx) => {
        await t.app.jobs.schedule(tx, 'test.rollback', { n: 1 });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await t.app.jobs.runDue();
    expect(await jobRows(t, 'test.rollback')).toEqual([]);
    expect(runs).toEqual([]);
  });

  it('commits with the transaction, and the job runs once with its payload', async () => {
    const runs = defineRecorder(t, 'test.commit');
    const id = await t.app.db.transaction((tx) =>
      t.app.jobs.schedule(tx, 'test.commit', { bookingId: 'b-1' }),
    );
    expect(id).toEqual(expect.any(String));
    await t.app.jobs.runDue();
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.payload).toEqual({ bookingId: 'b-1' });
    expect(runs[0]!.job).toMatchObject({ id, name: 'test.commit', attempt: 1, key: null });
    const [row] = await jobRows(t, 'test.commit');
    expect(row).toMatchObject({ state: 'done', attempts: 1, lockedUntil: null, lastError: null });
    expect(row!.finishedAt).toEqual(t.clock.now());
  });

  it('is idempotent by key: scheduling again adds nothing, and the job runs once', async () => {
    const runs = defineRecorder(t, 'test.keyed');
    const runAt = new Date(t.clock.now().getTime() + 60_000);
    const first = await t.app.jobs.schedule(
      t.app.db,
      'test.keyed',
      { v: 1 },
      { key: 'q-1', runAt },
    );
    const again = await t.app.jobs.schedule(t.app.db, 'test.keyed', { v: 2 }, { key: 'q-1' });
    expect(first).toEqual(expect.any(String));
    expect(again).toBeNull();
    const other = await t.app.jobs.schedule(
      t.app.db,
      'test.keyed',
      { v: 3 },
      { key: 'q-2', runAt },
    );
    expect(other).toEqual(expect.any(String));

    t.clock.advance(60);
    await t.app.jobs.runDue();
    const seen = runs.map((run) => [run.job.key, run.payload]).sort();
    expect(seen).toEqual([
      ['q-1', { v: 1 }],
      ['q-2', { v: 3 }],
    ]);
    // Done, the key still holds: a late duplicate does not run the work again.
    expect(await t.app.jobs.schedule(t.app.db, 'test.keyed', { v: 4 }, { key: 'q-1' })).toBeNull();
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(2);
  });

  it('waits for runAt on the app’s clock: a 14-day timer runs when the clock gets there', async () => {
    const runs = defineRecorder(t, 'test.timer');
    const runAt = new Date(t.clock.now().getTime() + 14 * DAY * 1000);
    await t.app.jobs.schedule(t.app.db, 'test.timer', { requestId: 'r-1' }, { runAt });
    await t.app.jobs.runDue();
    t.clock.advance(14 * DAY - 1);
    await t.app.jobs.runDue();
    expect(runs).toEqual([]);
    t.clock.advance(1);
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.job.now).toEqual(runAt);
  });

  it('refuses a job name no handler is defined for', async () => {
    await expect(t.app.jobs.schedule(t.app.db, 'test.nobody', {})).rejects.toThrow(
      /no job named "test.nobody"/,
    );
  });

  it('refuses to define one name twice', () => {
    defineRecorder(t, 'test.twice');
    expect(() => defineRecorder(t, 'test.twice')).toThrow(/defined twice/);
  });
});

describe('idempotent handlers', () => {
  it('mail.deliver run a second time (a worker lost after the send) sends nothing more', async () => {
    const email = uniqueEmail('twice');
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email, password: STRONG_PASSWORD, fullName: 'Twice', role: 'homeowner' },
    });
    expect(res.statusCode).toBe(202);
    await t.app.jobs.runDue();
    await t.mailbox.next(email);
    const [mail] = await t.app.db.select().from(mailOutbox).where(eq(mailOutbox.recipient, email));
    expect(mail).toMatchObject({ status: 'sent', attempts: 1 });

    // As if the worker had died before recording the job as done: it is due again.
    await t.app.db
      .update(jobs)
      .set({ state: 'pending', finishedAt: null, runAt: t.clock.now() })
      .where(eq(jobs.key, mail!.id));
    await t.app.jobs.runDue();

    const [job] = await t.app.db.select().from(jobs).where(eq(jobs.key, mail!.id));
    expect(job).toMatchObject({ name: 'mail.deliver', state: 'done', attempts: 2 });
    expect(t.mailbox.to(email)).toHaveLength(1);
    const [after] = await t.app.db.select().from(mailOutbox).where(eq(mailOutbox.id, mail!.id));
    expect(after).toEqual(mail);
  });
});

describe('periodic jobs', () => {
  const hour = 3600;
  const pending = async () =>
    (await jobRows(t, 'retention')).filter((row) => row.state === 'pending');

  it('keep exactly the next interval’s run scheduled, one row per interval', async () => {
    const rows = await jobRows(t, 'retention');
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    const nextSlot = periodSlot(hour, t.clock.now()) + 1;
    expect(await pending()).toMatchObject([
      { key: periodKey(hour, nextSlot), runAt: new Date(nextSlot * hour * 1000) },
    ]);

    t.clock.advance(nextSlot * hour - t.clock.now().getTime() / 1000);
    await t.app.jobs.runDue();
    const ran = (await jobRows(t, 'retention')).find(
      (row) => row.key === periodKey(hour, nextSlot),
    );
    expect(ran).toMatchObject({ state: 'done', attempts: 1 });
    expect(await pending()).toMatchObject([{ key: periodKey(hour, nextSlot + 1) }]);
  });
});

describe('metrics', () => {
  it('show queue depth by name and state, and runs by outcome', async () => {
    defineRecorder(t, 'test.metrics');
    const now = t.clock.now();
    const inOneHour = new Date(now.getTime() + 3_600_000);
    await t.app.jobs.schedule(t.app.db, 'test.metrics', {}, { runAt: inOneHour });
    await t.app.jobs.schedule(t.app.db, 'test.metrics', {}, { runAt: inOneHour });
    await t.app.jobs.schedule(t.app.db, 'test.metrics', {});
    await t.app.jobs.runDue();
    // A name no handler here knows stays due (as during a rolling deploy); one held by a lease runs.
    await insertJob(t.app.db, { name: 'test.unknown', payload: {}, runAt: now, maxAttempts: 1 });
    await t.app.db.insert(jobs).values({
      name: 'test.unknown',
      runAt: now,
      maxAttempts: 3,
      attempts: 1,
      lockedUntil: inOneHour,
      lockedBy: 'elsewhere',
    });

    expect(await metric(t, 'jobs_queue_depth', { name: 'test.metrics', state: 'scheduled' })).toBe(
      2,
    );
    expect(await metric(t, 'jobs_queue_depth', { name: 'test.unknown', state: 'due' })).toBe(1);
    expect(await metric(t, 'jobs_queue_depth', { name: 'test.unknown', state: 'running' })).toBe(1);
    expect(
      await metric(t, 'jobs_attempts_total', { name: 'test.metrics', outcome: 'succeeded' }),
    ).toBe(1);
    expect(await metric(t, 'jobs_run_duration_seconds_count', { name: 'test.metrics' })).toBe(1);
  });
});
