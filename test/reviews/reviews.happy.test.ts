import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { walkPages } from '../helpers/pagination.js';
import { confirmed, confirmedWith, get, idsAt, review } from './support.js';

const t = await createTestApp();
afterAll(() => t.close());

describe('reviewing a confirmed booking', () => {
  it('each party reviews once; the second review publishes both', async () => {
    const { owner, pro, bookingId } = await confirmed(t);

    const first = await review(t, owner, bookingId, { rating: 4, text: '  Fixed the tap.  ' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      bookingId,
      authorRole: 'homeowner',
      author: { id: owner.id, displayName: 'Test U.' },
      subject: { id: pro.id },
      rating: 4,
      text: 'Fixed the tap.',
      state: 'pending',
      publishedAt: null,
      reply: null,
    });

    const second = await review(t, pro, bookingId, { rating: 5, text: 'Friendly homeowner.' });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json()).toMatchObject({ authorRole: 'provider', state: 'published' });

    const mine = await get(t, owner, '/homeowners/reviews?about=by-me');
    expect(mine.json().items[0]).toMatchObject({ id: first.json().id, state: 'published' });
    expect(await idsAt(t, owner, '/homeowners/reviews')).toEqual([second.json().id]);
    expect(await idsAt(t, pro, '/service-providers/reviews?about=me')).toEqual([first.json().id]);
    expect(await idsAt(t, pro, '/service-providers/reviews?about=by-me')).toEqual([
      second.json().id,
    ]);
    expect(await idsAt(t, owner, `/providers/${pro.id}/reviews`)).toEqual([first.json().id]);
  });

  it('the provider replies once, publicly', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId)).json().id;
    await review(t, pro, bookingId);
    const res = await t.app.inject({
      method: 'POST',
      url: `/reviews/${id}/reply`,
      headers: pro.headers,
      payload: { text: 'Thank you, Jane!' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().reply).toMatchObject({ text: 'Thank you, Jane!' });
    const stranger = (await confirmed(t)).owner;
    const list = await get(t, stranger, `/providers/${pro.id}/reviews`);
    expect(list.json().items[0].reply.text).toBe('Thank you, Jane!');
  });

  it('the public profile: name, active services, rating summary, the three latest reviews', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    await review(t, owner, bookingId, { rating: 3, text: 'Late but good.' });
    await review(t, pro, bookingId);
    const res = await get(t, owner, `/providers/${pro.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      id: pro.id,
      displayName: 'Test User',
      rating: { count: 1, average: 3 },
      services: [{ id: pro.serviceId, title: 'Plumbing repairs', category: 'plumbing' }],
    });
    expect(res.json().latestReviews).toHaveLength(1);
    expect(res.json()).not.toHaveProperty('email');
  });

  it('catalog entries carry the provider’s rating summary', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    await review(t, owner, bookingId, { rating: 5, text: 'Great.' });
    await review(t, pro, bookingId);
    const res = await get(t, owner, '/services?sort=rating&limit=100');
    expect(res.statusCode, res.body).toBe(200);
    const entry = res.json().items.find((item: { id: string }) => item.id === pro.serviceId);
    expect(entry.rating).toEqual({ count: 1, average: 5 });
  });

  it('honours Idempotency-Key: a retry gets the first answer, not review_exists', async () => {
    const { owner, bookingId } = await confirmed(t);
    const headers = { 'idempotency-key': `review-${bookingId}` };
    const first = await review(t, owner, bookingId, undefined, headers);
    const again = await review(t, owner, bookingId, undefined, headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json().id).toBe(first.json().id);
  });

  it('pages the lists with keyset cursors', async () => {
    const { pro } = await confirmed(t);
    const written: string[] = [];
    for (let i = 0; i < 3; i++) {
      const deal = await confirmedWith(t, pro);
      written.unshift((await review(t, deal.owner, deal.bookingId)).json().id);
      await review(t, pro, deal.bookingId);
    }
    const { ids, pageSizes } = await walkPages(async (cursor) => {
      const query = cursor ? `&cursor=${cursor}` : '';
      return (await get(t, pro, `/providers/${pro.id}/reviews?limit=2${query}`)).json();
    });
    expect(ids).toEqual(written);
    expect(pageSizes).toEqual([2, 1]);
  });
});
