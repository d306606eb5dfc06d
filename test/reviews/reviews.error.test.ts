import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs } from '../helpers/users.js';
import { booked, fresh, move } from '../marketplace/support.js';
import { confirmed, DAY_SECONDS, get, review } from './support.js';

const t = await createTestApp();
afterAll(() => t.close());

describe('POST /bookings/{id}/review refuses', () => {
  it.each([
    ['rating 0', { rating: 0, text: 'x' }, '/body/rating'],
    ['rating 6', { rating: 6, text: 'x' }, '/body/rating'],
    ['rating 3.5', { rating: 3.5, text: 'x' }, '/body/rating'],
    ['rating as text', { rating: '5', text: 'x' }, '/body/rating'],
    ['empty text', { rating: 5, text: '' }, '/body/text'],
    ['blank text', { rating: 5, text: '   ' }, '/body/text'],
    ['2,001 characters', { rating: 5, text: 'a'.repeat(2001) }, '/body/text'],
    ['a control character', { rating: 5, text: 'bell\u0007' }, '/body/text'],
    ['no text', { rating: 5 }, '/body'],
    ['an unknown field', { rating: 5, text: 'ok', extra: 1 }, '/body'],
  ])('%s: 400', async (_name, payload, path) => {
    const { owner, bookingId } = await confirmed(t);
    const problem = expectProblem(
      await review(t, owner, bookingId, payload),
      400,
      'validation_failed',
    );
    expect(JSON.stringify(problem.errors)).toContain(path);
  });

  it('accepts line breaks and exactly 2,000 characters', async () => {
    const { owner, bookingId } = await confirmed(t);
    const res = await review(t, owner, bookingId, { rating: 5, text: `Good\n${'a'.repeat(1995)}` });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('a booking that is not confirmed: 409 invalid_state', async () => {
    const { owner, pro, bookingId } = await booked(t);
    expectProblem(await review(t, owner, bookingId), 409, 'invalid_state');
    await move(t, pro, bookingId, 'start');
    await move(t, pro, bookingId, 'complete');
    expectProblem(await review(t, pro, bookingId), 409, 'invalid_state');
  });

  it('a second review by the same party: 409 review_exists', async () => {
    const { owner, bookingId } = await confirmed(t);
    expect((await review(t, owner, bookingId)).statusCode).toBe(201);
    expectProblem(await review(t, owner, bookingId), 409, 'review_exists');
  });

  it('14 days after confirmation: 409 review_window_closed', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    t.clock.advance(14 * DAY_SECONDS - 60);
    const early = await fresh(t, owner);
    expect((await review(t, early, bookingId)).statusCode).toBe(201);
    t.clock.advance(61);
    const late = await fresh(t, pro);
    expectProblem(await review(t, late, bookingId), 409, 'review_window_closed');
  });

  it('an unknown booking: 404', async () => {
    const user = await loginAs(t, ['homeowner']);
    expectProblem(await review(t, user, '00000000-0000-4000-8000-000000000000'), 404, 'not_found');
  });
});

describe('replies and reads refuse', () => {
  it('a second reply: 409 reply_exists; a reply to a blind review: 409 invalid_state', async () => {
    const { owner, pro, bookingId } = await confirmed(t);
    const id = (await review(t, owner, bookingId)).json().id;
    const reply = () =>
      t.app.inject({
        method: 'POST',
        url: `/reviews/${id}/reply`,
        headers: pro.headers,
        payload: { text: 'Thanks' },
      });
    expectProblem(await reply(), 409, 'invalid_state');
    await review(t, pro, bookingId);
    expect((await reply()).statusCode).toBe(200);
    expectProblem(await reply(), 409, 'reply_exists');
  });

  it('a provider id that is not a provider: 404 for the profile and the reviews', async () => {
    const user = await loginAs(t, ['homeowner']);
    expectProblem(await get(t, user, `/providers/${user.id}`), 404, 'not_found');
    expectProblem(await get(t, user, `/providers/${user.id}/reviews`), 404, 'not_found');
  });

  it('a bad about or cursor: 400', async () => {
    const user = await loginAs(t, ['homeowner']);
    expectProblem(await get(t, user, '/homeowners/reviews?about=all'), 400, 'validation_failed');
    expectProblem(await get(t, user, '/homeowners/reviews?cursor=abc'), 400, 'validation_failed');
  });

  it('the catalog refuses a cursor of another sort, and a minRating out of range', async () => {
    const user = await loginAs(t, ['homeowner']);
    await confirmed(t);
    const page = (await get(t, user, '/services?limit=1')).json();
    expect(page.nextCursor).not.toBeNull();
    expectProblem(
      await get(t, user, `/services?sort=rating&cursor=${page.nextCursor}`),
      400,
      'validation_failed',
    );
    expectProblem(await get(t, user, '/services?minRating=6'), 400, 'validation_failed');
    expectProblem(await get(t, user, '/services?sort=best'), 400, 'validation_failed');
  });
});
