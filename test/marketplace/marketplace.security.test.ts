import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import {
  type Homeowner,
  homeowner,
  openRequest,
  type Provider,
  provider,
  quoteInput,
  submitQuote,
} from './support.js';

/** Ownership is 404, never 403; a provider sees only what they can serve, and no address. */
let t: TestContext;
let owner: Homeowner;
let intruder: Homeowner;
let pro: Provider;
let requestId: string;
let quoteId: string;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  owner = await homeowner(t);
  intruder = await homeowner(t);
  pro = await provider(t);
  requestId = await openRequest(t, owner);
  quoteId = await submitQuote(t, pro, requestId);
});
afterAll(() => t?.close());

const snapshot = async () =>
  (
    (await t.app.db.execute(
      sql`select r.state, r.title, q.state as quote from job_requests r join quotes q on q.request_id = r.id where r.id = ${requestId}`,
    )) as unknown as { rows: unknown[] }
  ).rows;

describe('another homeowner', () => {
  const calls: Array<[string, string, () => string, Record<string, unknown> | undefined]> = [
    ['GET', 'read the request', () => `/homeowners/requests/${requestId}`, undefined],
    ['PATCH', 'change it', () => `/homeowners/requests/${requestId}`, { title: 'Mine now' }],
    ['POST', 'cancel it', () => `/homeowners/requests/${requestId}/cancel`, {}],
    ['GET', 'list its quotes', () => `/homeowners/requests/${requestId}/quotes`, undefined],
    [
      'POST',
      'accept a quote on it',
      () => `/homeowners/requests/${requestId}/quotes/${quoteId}/accept`,
      undefined,
    ],
  ];
  it.each(calls)('%s: may not %s (404, nothing changes)', async (method, _what, url, payload) => {
    const before = await snapshot();
    const res = await t.app.inject({
      method: method as 'GET',
      url: url(),
      headers: intruder.headers,
      ...(payload && { payload }),
    });
    expectProblem(res, 404, 'not_found');
    expect(await snapshot()).toEqual(before);
  });

  it('does not see it in their list', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/homeowners/requests',
      headers: intruder.headers,
    });
    expect(res.json().items).toEqual([]);
  });

  it('cannot accept a quote of one request through another of their own', async () => {
    const own = await openRequest(t, intruder);
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: `/homeowners/requests/${own}/quotes/${quoteId}/accept`,
        headers: intruder.headers,
      }),
      404,
      'not_found',
    );
  });
});

describe('a provider who cannot serve the request', () => {
  for (const [why, options] of [
    ['another category', { category: 'roofing' }],
    ['another postal code', { postalCodes: ['99999'] }],
  ] as const) {
    it(`(${why}) neither sees it nor quotes on it: 404`, async () => {
      const outsider = await provider(t, options);
      const feed = await t.app.inject({
        method: 'GET',
        url: '/service-providers/requests',
        headers: outsider.headers,
      });
      expect(feed.json().items.map((r: { id: string }) => r.id)).not.toContain(requestId);
      expectProblem(
        await t.app.inject({
          method: 'GET',
          url: `/service-providers/requests/${requestId}`,
          headers: outsider.headers,
        }),
        404,
        'not_found',
      );
      expectProblem(
        await t.app.inject({
          method: 'POST',
          url: `/service-providers/requests/${requestId}/quotes`,
          headers: outsider.headers,
          payload: quoteInput(t, outsider),
        }),
        404,
        'not_found',
      );
    });
  }

  it('cannot withdraw someone else’s quote: 404, still live', async () => {
    const other = await provider(t);
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: `/service-providers/quotes/${quoteId}/withdraw`,
        headers: other.headers,
      }),
      404,
      'not_found',
    );
    expect((await snapshot())[0]).toMatchObject({ quote: 'live' });
  });
});

describe('a direct request', () => {
  it('reaches only the provider of the service it names', async () => {
    const named = await provider(t);
    const other = await provider(t);
    const direct = await openRequest(t, owner, { serviceId: named.serviceId });
    const feedOf = async (who: Provider) =>
      (
        await t.app.inject({
          method: 'GET',
          url: '/service-providers/requests',
          headers: who.headers,
        })
      )
        .json()
        .items.filter((r: { id: string }) => r.id === direct);
    expect(await feedOf(named)).toMatchObject([{ id: direct, direct: true }]);
    expect(await feedOf(other)).toEqual([]);
    expectProblem(
      await t.app.inject({
        method: 'GET',
        url: `/service-providers/requests/${direct}`,
        headers: other.headers,
      }),
      404,
      'not_found',
    );
  });
});

describe('privacy before a booking', () => {
  it('the provider’s view of a request has no address and no homeowner', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/service-providers/requests/${requestId}`,
      headers: pro.headers,
    });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(
      [
        'budgetCents',
        'category',
        'city',
        'createdAt',
        'currency',
        'description',
        'direct',
        'earliestDate',
        'expiresAt',
        'id',
        'latestDate',
        'postalCode',
        'timeOfDay',
        'title',
      ].sort(),
    );
    expect(res.body).not.toContain('Main Street');
    expect(res.body).not.toContain(owner.email);
  });
});
