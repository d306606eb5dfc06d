import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import {
  accept,
  booked,
  homeowner,
  move,
  openRequest,
  type Provider,
  submitQuote,
} from '../marketplace/support.js';

/** Reviews' cast: a homeowner and a provider with a confirmed booking between them. */

export const DAY_SECONDS = 86_400;

export async function confirmed(t: TestContext) {
  return confirm(t, await booked(t));
}

/** Another homeowner's confirmed booking with the same provider. */
export async function confirmedWith(t: TestContext, pro: Provider) {
  const owner = await homeowner(t);
  const requestId = await openRequest(t, owner);
  const quoteId = await submitQuote(t, pro, requestId);
  const res = await accept(t, owner, requestId, quoteId);
  expect(res.statusCode, res.body).toBe(201);
  return confirm(t, { owner, pro, requestId, quoteId, bookingId: res.json().id as string });
}

async function confirm<T extends Awaited<ReturnType<typeof booked>>>(t: TestContext, deal: T) {
  for (const [user, verb] of [
    [deal.pro, 'start'],
    [deal.pro, 'complete'],
    [deal.owner, 'confirm'],
  ] as const) {
    const res = await move(t, user, deal.bookingId, verb);
    expect(res.statusCode, res.body).toBe(200);
  }
  return deal;
}

export function review(
  t: TestContext,
  user: TestUser,
  bookingId: string,
  payload: Record<string, unknown> = { rating: 5, text: 'Quick and tidy.' },
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method: 'POST',
    url: `/bookings/${bookingId}/review`,
    headers: { ...user.headers, ...headers },
    payload,
  });
}

export function get(t: TestContext, user: TestUser, url: string) {
  return t.app.inject({ method: 'GET', url, headers: user.headers });
}

/** The ids a list route gives `user`. */
export async function idsAt(t: TestContext, user: TestUser, url: string): Promise<string[]> {
  const res = await get(t, user, url);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.map((item: { id: string }) => item.id);
}

type Rows = { rows: Array<Record<string, unknown>> };
export async function one(t: TestContext, query: ReturnType<typeof sql>) {
  return ((await t.app.db.execute(query)) as unknown as Rows).rows[0];
}

export async function ratingRow(t: TestContext, providerId: string) {
  return one(
    t,
    sql`select count, sum, average, bayesian from provider_ratings where provider_id = ${providerId}`,
  );
}

export async function serviceRating(t: TestContext, serviceId: string) {
  return one(
    t,
    sql`select rating_count, rating_average, rating_bayes from services where id = ${serviceId}`,
  );
}
