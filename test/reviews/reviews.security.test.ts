import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs } from '../helpers/users.js';
import { confirmed, get, idsAt, review } from './support.js';

const t = await createTestApp();
afterAll(() => t.close());

describe('double-blind', () => {
  it('the second reviewer cannot read the first review before submitting their own', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const first = await review(t, owner, bookingId, { rating: 1, text: 'Secret verdict.' });
    expect(first.statusCode).toBe(201);
    const id = first.json().id;

    // Every read the provider (and anyone else) has: nothing of it, anywhere.
    const stranger = await loginAs(t, ['homeowner']);
    for (const [user, url] of [
      [pro, '/service-providers/reviews?about=me'],
      [pro, '/service-providers/reviews?about=by-me'],
      [pro, '/homeowners/reviews?about=me'],
      [pro, `/providers/${pro.id}/reviews`],
      [pro, `/providers/${pro.id}`],
      [pro, `/bookings/${bookingId}`],
      [stranger, `/providers/${pro.id}/reviews`],
      [stranger, `/providers/${pro.id}`],
      [pro, '/services?sort=rating&limit=100'],
    ] as const) {
      const res = await get(t, user, url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain(id);
      expect(res.body, url).not.toContain('Secret verdict');
    }
    // Nor its rating: the aggregates wait for publication.
    expect((await get(t, pro, `/providers/${pro.id}`)).json().rating).toEqual({
      count: 0,
      average: null,
    });
    // Replying to it is 409 (it is not published), which says nothing of its content.
    const reply = await t.app.inject({
      method: 'POST',
      url: `/reviews/${id}/reply`,
      headers: pro.headers,
      payload: { text: 'Let me see' },
    });
    expect(reply.body).not.toContain('Secret verdict');

    // Once the provider has reviewed, both are published and each reads the other's.
    expect((await review(t, pro, bookingId)).statusCode).toBe(201);
    expect(await idsAt(t, pro, '/service-providers/reviews?about=me')).toEqual([id]);
    expect((await get(t, pro, `/providers/${pro.id}`)).json().rating).toEqual({
      count: 1,
      average: 1,
    });
  });

  it('the author sees their own pending review', async () => {
    const { owner, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId)).json().id;
    const res = await get(t, owner, '/homeowners/reviews?about=by-me');
    expect(res.json().items).toEqual([expect.objectContaining({ id, state: 'pending' })]);
  });
});

describe('who may', () => {
  it('a stranger (even an admin) cannot review someone else’s booking: 404', async () => {
    const { bookingId } = await confirmed(t);
    for (const roles of [['homeowner'], ['service_provider'], ['admin']]) {
      const user = await loginAs(t, roles);
      expectProblem(await review(t, user, bookingId), 404, 'not_found');
    }
  });

  it('only the reviewed provider replies: 404 for the author and for anyone else', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId)).json().id;
    const theirs = (await review(t, pro, bookingId)).json().id;
    const other = (await confirmed(t)).pro;
    for (const [user, reviewId] of [
      [owner, id],
      [other, id],
      // The homeowner cannot "reply" to the provider's review of them either.
      [owner, theirs],
    ] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/reviews/${reviewId}/reply`,
        headers: user.headers,
        payload: { text: 'Not mine to answer' },
      });
      expectProblem(res, 404, 'not_found');
    }
  });

  it('hiding is for admins only (403 for parties), and the reason is not public', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId)).json().id;
    await review(t, pro, bookingId);
    for (const user of [owner, pro]) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/admin/reviews/${id}/hide`,
        headers: user.headers,
        payload: { reason: 'mine' },
      });
      expectProblem(res, 403, 'forbidden');
    }
    const admin = await loginAs(t, ['admin']);
    const hidden = await t.app.inject({
      method: 'POST',
      url: `/admin/reviews/${id}/hide`,
      headers: admin.headers,
      payload: { reason: 'Personal data in the text' },
    });
    expect(hidden.statusCode, hidden.body).toBe(200);
    expect(hidden.json()).toMatchObject({
      state: 'hidden',
      hiddenReason: 'Personal data in the text',
    });
    const publicList = await get(t, admin, `/providers/${pro.id}/reviews`);
    expect(publicList.json().items).toEqual([]);
    const own = await get(t, owner, '/homeowners/reviews?about=by-me');
    expect(own.json().items[0]).toMatchObject({ id, state: 'hidden' });
  });
});

describe('a deleted account', () => {
  it('its reviews stay, written by "former user"', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId, { rating: 4, text: 'Stays.' })).json().id;
    await review(t, pro, bookingId);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: owner.headers,
      payload: { password: owner.password },
    });
    expect(res.statusCode, res.body).toBe(204);
    const list = await get(t, pro, `/providers/${pro.id}/reviews`);
    expect(list.json().items).toEqual([
      expect.objectContaining({
        id,
        text: 'Stays.',
        author: { id: null, displayName: 'former user' },
      }),
    ]);
    expect((await get(t, pro, `/providers/${pro.id}`)).json().rating).toEqual({
      count: 1,
      average: 4,
    });
  });
});
