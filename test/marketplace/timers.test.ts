import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import {
  accept,
  booked,
  fresh,
  homeowner,
  move,
  openRequest,
  provider,
  submitQuote,
} from './support.js';

/** The timed transitions on the real job queue, driven by the ManualClock. */
const t = await createTestApp();
afterAll(() => t.close());

const DAY = 86_400;
type Rows = { rows: Array<Record<string, unknown>> };
const one = async (query: ReturnType<typeof sql>) =>
  ((await t.app.db.execute(query)) as unknown as Rows).rows[0];
const auditCount = async (type: string, subjectId: string) =>
  Number(
    (
      await one(
        sql`select count(*)::int as n from audit_events where type = ${type} and subject_id = ${subjectId}`,
      )
    )?.n,
  );
/**
 * Lets the queue finish what it is running (mail) before the clock jumps: a run still going when
 * its lease runs out on the moved clock would be claimed again, and the mail sent twice.
 */
const advance = async (seconds: number) => {
  await t.app.jobs.runDue();
  t.clock.advance(seconds);
};
/** Runs every finished job of `name` again, as a worker that died before recording it would. */
const rerun = async (name: string) => {
  await t.app.db.execute(
    sql`update jobs set state = 'pending', finished_at = null where name = ${name}`,
  );
  await t.app.jobs.runDue();
};

describe('request expiry: 14 days without an accepted quote', () => {
  it('expires the request, declines its live quotes and mails the homeowner, once', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    const quoteId = await submitQuote(t, pro, requestId, {
      validUntil: new Date(t.clock.now().getTime() + 20 * DAY * 1000).toISOString(),
    });
    await t.mailbox.next(owner.email); // the quote's mail

    await advance(14 * DAY - 60);
    await t.app.jobs.runDue();
    expect((await one(sql`select state from job_requests where id = ${requestId}`))?.state).toBe(
      'open',
    );

    await advance(61);
    await t.app.jobs.runDue();
    expect((await one(sql`select state from job_requests where id = ${requestId}`))?.state).toBe(
      'expired',
    );
    expect((await one(sql`select state from quotes where id = ${quoteId}`))?.state).not.toBe(
      'live',
    );
    expect((await t.mailbox.next(owner.email)).subject).toBe('Your job request expired');

    await rerun('marketplace.request.expire');
    expect(await auditCount('request.expire', requestId)).toBe(1);
  });

  it('leaves a booked request alone', async () => {
    const { requestId } = await booked(t);
    await advance(15 * DAY);
    await t.app.jobs.runDue();
    expect((await one(sql`select state from job_requests where id = ${requestId}`))?.state).toBe(
      'booked',
    );
    expect(await auditCount('request.expire', requestId)).toBe(0);
  });
});

describe('quote expiry at validUntil', () => {
  it('expires the quote and mails the provider; accepting it after validUntil is quote_expired', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    const validUntil = new Date(t.clock.now().getTime() + 2 * DAY * 1000);
    const quoteId = await submitQuote(t, pro, requestId, { validUntil: validUntil.toISOString() });

    await advance(2 * DAY);
    const later = await fresh(t, owner);
    // Due (the timer may or may not have run yet): accept refuses it either way.
    expectProblem(await accept(t, later, requestId, quoteId), 409, 'quote_expired');

    await t.app.jobs.runDue();
    expect((await one(sql`select state from quotes where id = ${quoteId}`))?.state).toBe('expired');
    expect((await t.mailbox.next(pro.email)).subject).toBe('Your quote expired');
    expectProblem(await accept(t, later, requestId, quoteId), 409, 'quote_expired');

    await rerun('marketplace.quote.expire');
    expect(await auditCount('quote.expire', quoteId)).toBe(1);
  });

  it('a revision replaces the quote; the old one’s timer finds it replaced and does nothing', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    const first = await submitQuote(t, pro, requestId, {
      validUntil: new Date(t.clock.now().getTime() + DAY * 1000).toISOString(),
    });
    const second = await submitQuote(t, pro, requestId, { priceCents: 100 });
    expect((await one(sql`select state from quotes where id = ${first}`))?.state).toBe('replaced');
    await advance(DAY + 1);
    await t.app.jobs.runDue();
    expect((await one(sql`select state from quotes where id = ${first}`))?.state).toBe('replaced');
    expect((await one(sql`select state from quotes where id = ${second}`))?.state).toBe('live');
  });
});

describe('auto-confirmation 7 days after completion, the end of the dispute window', () => {
  it('confirms a completed booking and mails both parties, once', async () => {
    const { owner, pro, bookingId } = await booked(t);
    await move(t, pro, bookingId, 'start');
    await move(t, pro, bookingId, 'complete');
    await advance(7 * DAY - 1);
    await t.app.jobs.runDue();
    expect((await one(sql`select state from bookings where id = ${bookingId}`))?.state).toBe(
      'completed',
    );

    await advance(1);
    // The window is closed: a dispute now is refused, even before the timer runs.
    expectProblem(
      await move(t, await fresh(t, owner), bookingId, 'dispute', { reason: 'Too late.' }),
      409,
      'invalid_state',
    );
    await t.app.jobs.runDue();
    expect((await one(sql`select state from bookings where id = ${bookingId}`))?.state).toBe(
      'confirmed',
    );
    const subjects = new Set<string>();
    for (const email of [owner.email, pro.email]) {
      let mail = await t.mailbox.next(email);
      while (mail.subject !== 'The job was confirmed') mail = await t.mailbox.next(email);
      subjects.add(mail.subject);
    }
    expect([...subjects]).toEqual(['The job was confirmed']);

    await rerun('marketplace.booking.autoconfirm');
    expect(await auditCount('booking.autoconfirm', bookingId)).toBe(1);
  });

  it('a dispute within the window stops it', async () => {
    const { owner, pro, bookingId } = await booked(t);
    await move(t, pro, bookingId, 'start');
    await move(t, pro, bookingId, 'complete');
    await advance(6 * DAY);
    const disputed = await move(t, await fresh(t, owner), bookingId, 'dispute', {
      reason: 'Still drips.',
    });
    expect(disputed.json()).toMatchObject({ state: 'disputed', disputeReason: 'Still drips.' });
    await advance(2 * DAY);
    await t.app.jobs.runDue();
    expect((await one(sql`select state from bookings where id = ${bookingId}`))?.state).toBe(
      'disputed',
    );
    expect(await auditCount('booking.autoconfirm', bookingId)).toBe(0);
  });
});
