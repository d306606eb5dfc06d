import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';
import { fresh } from '../marketplace/support.js';
import {
  confirmed,
  confirmedWith,
  DAY_SECONDS,
  get,
  idsAt,
  one,
  ratingRow,
  review,
  serviceRating,
} from './support.js';

/** The timer on the real job queue, driven by the ManualClock; the aggregates it keeps. */
const t = await createTestApp({ env: { RATING_PRIOR_MEAN: '3', RATING_PRIOR_WEIGHT: '2' } });
afterAll(() => t.close());

const advance = async (seconds: number) => {
  await t.app.jobs.runDue();
  t.clock.advance(seconds);
  await t.app.jobs.runDue();
};
const state = async (id: string) =>
  (await one(t, sql`select published_at from reviews where id = ${id}`))?.published_at;

describe('publication by the timer, 14 days after confirmation', () => {
  it('publishes a lone review at the deadline, counts it and tells its subject, once', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    t.clock.advance(3 * DAY_SECONDS);
    const id = (
      await review(t, await fresh(t, owner), bookingId, { rating: 4, text: 'Ok.' })
    ).json().id;

    await advance(11 * DAY_SECONDS - 60);
    expect(await state(id)).toBeNull();
    expect(await ratingRow(t, pro.id)).toBeUndefined();

    await advance(61);
    expect(await state(id)).not.toBeNull();
    expect(await ratingRow(t, pro.id)).toMatchObject({ count: 1, sum: 4 });
    const viewer = await loginAs(t, ['homeowner']);
    expect(await idsAt(t, viewer, `/providers/${pro.id}/reviews`)).toEqual([id]);
    const notice = await one(
      t,
      sql`select count(*)::int as n from notifications where user_id = ${pro.id} and kind = 'review.received'`,
    );
    expect(notice?.n).toBe(1);

    // A second run (a worker that died before recording the first) changes nothing.
    await t.app.db.execute(
      sql`update jobs set state = 'pending', finished_at = null where name = 'reviews.publish'`,
    );
    await t.app.jobs.runDue();
    expect(await ratingRow(t, pro.id)).toMatchObject({ count: 1, sum: 4 });
    const again = await one(
      t,
      sql`select count(*)::int as n from notifications where user_id = ${pro.id} and kind = 'review.received'`,
    );
    expect(again?.n).toBe(1);
  });

  it('after both reviewed, the timer finds nothing left to publish', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    await review(t, owner, bookingId, { rating: 2, text: 'Meh.' });
    await review(t, pro, bookingId);
    await advance(15 * DAY_SECONDS);
    expect(await ratingRow(t, pro.id)).toMatchObject({ count: 1, sum: 2 });
  });
});

describe('aggregates', () => {
  it('count, average and the Bayesian average (prior 3, weight 2), copied onto the services', async () => {
    const first = await confirmed(t);
    const { pro } = first;
    const ratings = [5, 4, 4];
    for (const [i, rating] of ratings.entries()) {
      const deal = i === 0 ? first : await confirmedWith(t, pro);
      await review(t, deal.owner, deal.bookingId, { rating, text: 'Fine.' });
      // The provider's review of the homeowner publishes both; it counts for nobody.
      await review(t, pro, deal.bookingId, { rating: 1, text: 'Hm.' });
    }
    const row = await ratingRow(t, pro.id);
    expect(row).toMatchObject({ count: 3, sum: 13 });
    expect(Number(row?.average)).toBeCloseTo(13 / 3, 10);
    expect(Number(row?.bayesian)).toBeCloseTo((2 * 3 + 13) / (2 + 3), 10);
    const service = await serviceRating(t, pro.serviceId);
    expect(service).toMatchObject({ rating_count: 3 });
    expect(Number(service?.rating_bayes)).toBeCloseTo(19 / 5, 10);
    expect((await get(t, first.owner, `/providers/${pro.id}`)).json().rating).toEqual({
      count: 3,
      average: 4.33,
    });
  });

  it('a hidden review leaves the aggregates in the same transaction, and the audit trail says why', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId, { rating: 1, text: 'Awful.' })).json().id;
    await review(t, pro, bookingId);
    expect(await ratingRow(t, pro.id)).toMatchObject({ count: 1, sum: 1 });
    const admin = await loginAs(t, ['admin']);
    const hide = () =>
      t.app.inject({
        method: 'POST',
        url: `/admin/reviews/${id}/hide`,
        headers: admin.headers,
        payload: { reason: 'Abusive language' },
      });
    expect((await hide()).statusCode).toBe(200);
    const row = await ratingRow(t, pro.id);
    expect(row).toMatchObject({ count: 0, sum: 0, average: null });
    expect(Number(row?.bayesian)).toBe(3);
    expect(await serviceRating(t, pro.serviceId)).toMatchObject({
      rating_count: 0,
      rating_average: null,
    });
    const audit = await one(
      t,
      sql`select actor_id, data from audit_events where type = 'review.hidden' and subject_id = ${id}`,
    );
    expect(audit).toMatchObject({ actor_id: admin.id, data: { reason: 'Abusive language' } });
    expect((await hide()).statusCode).toBe(409);
  });

  it('a review hidden while blind is never counted when it is published', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId, { rating: 5, text: 'Spam spam.' })).json().id;
    const admin = await loginAs(t, ['admin']);
    const res = await t.app.inject({
      method: 'POST',
      url: `/admin/reviews/${id}/hide`,
      headers: admin.headers,
      payload: { reason: 'Spam' },
    });
    expect(res.statusCode).toBe(200);
    await review(t, pro, bookingId);
    expect(await ratingRow(t, pro.id)).toBeUndefined();
  });

  it('a new service starts with its provider’s rating; an unrated provider’s at the prior mean', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    await review(t, owner, bookingId, { rating: 5, text: 'Top.' });
    await review(t, pro, bookingId);
    const res = await t.app.inject({
      method: 'POST',
      url: '/service-providers/services',
      headers: pro.headers,
      payload: {
        title: 'Boiler service',
        description: 'Annual check.',
        category: 'hvac',
        pricingModel: 'fixed',
        priceCents: 9000,
        postalCodes: ['62701'],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(await serviceRating(t, res.json().id)).toMatchObject({
      rating_count: 1,
      rating_average: 5,
    });
    const other = (await confirmed(t)).pro;
    expect(Number((await serviceRating(t, other.serviceId))?.rating_bayes)).toBe(3);
  });
});
