import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jobs } from '../../src/db/schema.js';
import { deferred } from '../foundation/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { defineRecorder, jobRows, metric } from './support.js';

const WAIT = { timeout: 10_000, interval: 10 };

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

describe('a failing handler', () => {
  it('is retried with backoff on the app’s clock, and succeeds later', async () => {
    const runs = defineRecorder(t, 'test.flaky', {
      maxAttempts: 5,
      backoff: { baseSeconds: 10, maxSeconds: 15 },
      behave: ({ job }) => {
        if (job.attempt < 3) throw new Error(`boom ${job.attempt}`);
      },
    });
    await t.app.jobs.schedule(t.app.db, 'test.flaky', { n: 1 });
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(1);
    let [row] = await jobRows(t, 'test.flaky');
    expect(row).toMatchObject({ state: 'pending', attempts: 1, lastError: 'boom 1' });
    expect(row!.runAt).toEqual(new Date(t.clock.now().getTime() + 10_000));

    // Not before the backoff has passed: 10 s after attempt 1, then 20 s capped at 15 s.
    t.clock.advance(9);
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(1);
    t.clock.advance(1);
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(2);
    [row] = await jobRows(t, 'test.flaky');
    expect(row).toMatchObject({ state: 'pending', attempts: 2, lastError: 'boom 2' });
    expect(row!.runAt).toEqual(new Date(t.clock.now().getTime() + 15_000));

    t.clock.advance(15);
    await t.app.jobs.runDue();
    expect(runs.map((run) => run.job.attempt)).toEqual([1, 2, 3]);
    [row] = await jobRows(t, 'test.flaky');
    expect(row).toMatchObject({ state: 'done', attempts: 3, lastError: null });
    expect(
      await metric(t, 'jobs_attempts_total', { name: 'test.flaky', outcome: 'retrying' }),
    ).toBe(2);
    expect(
      await metric(t, 'jobs_attempts_total', { name: 'test.flaky', outcome: 'succeeded' }),
    ).toBe(1);
  });

  it('is given up after maxAttempts: state failed, counted, never run again', async () => {
    const runs = defineRecorder(t, 'test.broken', {
      maxAttempts: 2,
      backoff: { baseSeconds: 5, maxSeconds: 5 },
      behave: () => {
        throw new Error('always');
      },
    });
    await t.app.jobs.schedule(t.app.db, 'test.broken', {});
    await t.app.jobs.runDue();
    t.clock.advance(5);
    await t.app.jobs.runDue();
    t.clock.advance(3600);
    await t.app.jobs.runDue();
    expect(runs).toHaveLength(2);
    const [row] = await jobRows(t, 'test.broken');
    expect(row).toMatchObject({ state: 'failed', attempts: 2, lastError: 'always' });
    expect(row!.finishedAt).toEqual(new Date(t.clock.now().getTime() - 3600_000));
    expect(await metric(t, 'jobs_queue_depth', { name: 'test.broken', state: 'failed' })).toBe(1);
    expect(await metric(t, 'jobs_attempts_total', { name: 'test.broken', outcome: 'failed' })).toBe(
      1,
    );
    expect(t.logs.join('')).toContain('"msg":"job failed"');
  });
});

describe('leases', () => {
  it('a job claimed by a worker that died runs again once the lease has run out', async () => {
    const runs = defineRecorder(t, 'test.orphan', { leaseSeconds: 300 });
    const now = t.clock.now();
    await t.app.db.insert(jobs).values({
      name: 'test.orphan',
      runAt: now,
      maxAttempts: 5,
      attempts: 1,
      lockedUntil: new Date(now.getTime() + 300_000),
      lockedBy: 'a-worker-that-died',
    });
    await t.app.jobs.runDue();
    expect(runs).toEqual([]);
    t.clock.advance(300);
    await t.app.jobs.runDue();
    expect(runs.map((run) => run.job.attempt)).toEqual([2]);
    expect((await jobRows(t, 'test.orphan'))[0]).toMatchObject({ state: 'done', lockedBy: null });
  });

  it('a run that outlives its lease cannot record over the run that took the job over', async () => {
    const gate = deferred();
    const runs = defineRecorder(t, 'test.slow', {
      leaseSeconds: 60,
      behave: async ({ job }) => {
        if (job.attempt === 1) await gate.promise;
        else throw new Error('second run failed');
      },
    });
    await t.app.jobs.schedule(t.app.db, 'test.slow', {});
    t.app.jobs.wake();
    await vi.waitFor(() => expect(runs).toHaveLength(1), WAIT);

    t.clock.advance(61);
    t.app.jobs.wake();
    await vi.waitFor(() => expect(runs).toHaveLength(2), WAIT);
    await vi.waitFor(
      async () =>
        expect((await jobRows(t, 'test.slow'))[0]).toMatchObject({
          lastError: 'second run failed',
        }),
      WAIT,
    );

    gate.resolve();
    await t.app.jobs.runDue();
    const [row] = await jobRows(t, 'test.slow');
    // The first run finished last, but the job stands as the second run left it.
    expect(row).toMatchObject({ state: 'pending', attempts: 2, lastError: 'second run failed' });
    expect(t.logs.join('')).toContain('job outlived its lease; another run took it over');
    await t.app.db.delete(jobs).where(eq(jobs.id, row!.id));
  });
});
