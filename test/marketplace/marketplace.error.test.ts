import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import {
  booked,
  dateIn,
  type Homeowner,
  homeowner,
  instantIn,
  move,
  openRequest,
  type Provider,
  provider,
  quoteInput,
  requestInput,
  submitQuote,
} from './support.js';

let t: TestContext;
let owner: Homeowner;
let pro: Provider;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  owner = await homeowner(t);
  pro = await provider(t);
});
afterAll(() => t?.close());

const open = (payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/homeowners/requests', headers: owner.headers, payload });
const fieldsOf = (res: { json(): { errors?: Array<{ path: string }> } }) =>
  (res.json().errors ?? []).map((e) => e.path);

describe('POST /homeowners/requests refuses', () => {
  const cases: Array<[string, () => Record<string, unknown>, string]> = [
    ['an earliest date in the past', () => ({ earliestDate: dateIn(t, -1) }), '/body/earliestDate'],
    [
      'a latest date before the earliest',
      () => ({ earliestDate: dateIn(t, 5), latestDate: dateIn(t, 4) }),
      '/body/latestDate',
    ],
    ['a window over a year out', () => ({ latestDate: dateIn(t, 400) }), '/body/latestDate'],
    ['a date that does not exist', () => ({ latestDate: '2030-02-30' }), '/body/latestDate'],
    ['a budget without a currency', () => ({ currency: undefined }), '/body/currency'],
    ['a currency without a budget', () => ({ budgetCents: undefined }), '/body/budgetCents'],
    ['a negative budget', () => ({ budgetCents: -1 }), '/body/budgetCents'],
    ['a fractional budget', () => ({ budgetCents: 10.5 }), '/body/budgetCents'],
    ['a currency that is not ISO 4217', () => ({ currency: 'XXX' }), '/body/currency'],
    ['an unknown category', () => ({ category: 'astrology' }), '/body/category'],
    ['a title of 121 characters', () => ({ title: 'x'.repeat(121) }), '/body/title'],
    ['a blank title', () => ({ title: '   ' }), '/body/title'],
    ['a control character in the title', () => ({ title: 'Tap\u0007' }), '/body/title'],
    ['an unknown time of day', () => ({ timeOfDay: 'midnight' }), '/body/timeOfDay'],
    ['a state set by the client', () => ({ state: 'booked' }), '/body/state'],
    ['a homeownerId set by the client', () => ({ homeownerId: pro.id }), '/body/homeownerId'],
  ];
  it.each(cases)('%s', async (_name, overrides, path) => {
    const res = await open({ ...requestInput(t, owner), ...overrides() });
    expectProblem(res, 400, 'validation_failed');
    expect(fieldsOf(res).join(' ')).toContain(path);
  });

  it('a direct request to a service that does not serve the property', async () => {
    const elsewhere = await provider(t, { postalCodes: ['99999'] });
    const res = await open(requestInput(t, owner, { serviceId: elsewhere.serviceId }));
    expectProblem(res, 400, 'validation_failed');
    expect(fieldsOf(res)).toEqual(['/body/serviceId']);
  });

  it('another owner’s property: 404', async () => {
    const other = await homeowner(t);
    expectProblem(
      await open(requestInput(t, owner, { propertyId: other.propertyId })),
      404,
      'not_found',
    );
  });
});

describe('PATCH /homeowners/requests/{id}', () => {
  it('changes the fields sent while there is no quote', async () => {
    const id = await openRequest(t, owner);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/homeowners/requests/${id}`,
      headers: owner.headers,
      payload: { title: '  Dripping tap  ', latestDate: dateIn(t, 12) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ title: 'Dripping tap', latestDate: dateIn(t, 12) });
  });

  it('is 409 invalid_state once a quote exists, and 409 request_closed once cancelled', async () => {
    const id = await openRequest(t, owner);
    await submitQuote(t, pro, id);
    const patch = () =>
      t.app.inject({
        method: 'PATCH',
        url: `/homeowners/requests/${id}`,
        headers: owner.headers,
        payload: { title: 'Changed' },
      });
    expectProblem(await patch(), 409, 'invalid_state');
    await t.app.inject({
      method: 'POST',
      url: `/homeowners/requests/${id}/cancel`,
      headers: owner.headers,
      payload: { reason: 'Fixed it.' },
    });
    expectProblem(await patch(), 409, 'request_closed');
  });

  it('refuses an empty patch and a window that ends before it starts', async () => {
    const id = await openRequest(t, owner);
    for (const payload of [{}, { latestDate: dateIn(t, 1) }]) {
      expectProblem(
        await t.app.inject({
          method: 'PATCH',
          url: `/homeowners/requests/${id}`,
          headers: owner.headers,
          payload,
        }),
        400,
        'validation_failed',
      );
    }
  });
});

describe('POST /service-providers/requests/{id}/quotes refuses', () => {
  let requestId: string;
  beforeAll(async () => {
    requestId = await openRequest(t, owner);
  });
  const quote = (payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `/service-providers/requests/${requestId}/quotes`,
      headers: pro.headers,
      payload,
    });
  const cases: Array<[string, () => Record<string, unknown>, string]> = [
    ['a validUntil in the past', () => ({ validUntil: instantIn(t, -1) }), '/body/validUntil'],
    [
      'a validUntil over 90 days out',
      () => ({ validUntil: instantIn(t, 24 * 91) }),
      '/body/validUntil',
    ],
    [
      'a proposedStart in the past',
      () => ({ proposedStart: instantIn(t, -1) }),
      '/body/proposedStart',
    ],
    [
      'a proposedStart that is not a date',
      () => ({ proposedStart: 'tomorrow' }),
      '/body/proposedStart',
    ],
    ['a negative price', () => ({ priceCents: -5 }), '/body/priceCents'],
    ['a price over the cap', () => ({ priceCents: 100_000_001 }), '/body/priceCents'],
    ['a price as a string', () => ({ priceCents: '100' }), '/body/priceCents'],
    ['a lower-case currency', () => ({ currency: 'usd' }), '/body/currency'],
    ['an empty message', () => ({ message: '' }), '/body/message'],
    ['a NUL in the message', () => ({ message: 'a\u0000b' }), '/body/message'],
  ];
  it.each(cases)('%s', async (_name, overrides, path) => {
    const res = await quote({ ...quoteInput(t, pro), ...overrides() });
    expectProblem(res, 400, 'validation_failed');
    expect(fieldsOf(res).join(' ')).toContain(path);
  });

  it('another provider’s service', async () => {
    const other = await provider(t);
    const res = await quote(quoteInput(t, pro, { serviceId: other.serviceId }));
    expectProblem(res, 400, 'validation_failed');
    expect(fieldsOf(res)).toEqual(['/body/serviceId']);
  });

  it('a request that is no longer open: 409 request_closed', async () => {
    const id = await openRequest(t, owner);
    await t.app.inject({
      method: 'POST',
      url: `/homeowners/requests/${id}/cancel`,
      headers: owner.headers,
      payload: {},
    });
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: `/service-providers/requests/${id}/quotes`,
        headers: pro.headers,
        payload: quoteInput(t, pro),
      }),
      409,
      'request_closed',
    );
  });
});

describe('bookings', () => {
  it('cancel and dispute need a reason', async () => {
    const { owner: o, bookingId } = await booked(t);
    for (const verb of ['cancel', 'dispute']) {
      expectProblem(await move(t, o, bookingId, verb, {}), 400, 'validation_failed');
    }
  });

  it('a cancellation less than 24 hours before the proposed start is flagged late', async () => {
    const early = await booked(t);
    const onTime = await move(t, early.owner, early.bookingId, 'cancel', { reason: 'Moved.' });
    expect(onTime.json()).toMatchObject({
      state: 'cancelled',
      cancelledBy: 'homeowner',
      cancelReason: 'Moved.',
      lateCancellation: false,
    });
    const late = await booked(t);
    await t.app.db.execute(
      sql`update bookings set proposed_start = ${instantIn(t, 23)}::timestamptz where id = ${late.bookingId}`,
    );
    const res = await move(t, late.pro, late.bookingId, 'cancel', { reason: 'Ill.' });
    expect(res.json()).toMatchObject({ cancelledBy: 'provider', lateCancellation: true });
  });

  it('a cursor the server did not issue is 400 on every list', async () => {
    for (const url of [
      '/homeowners/requests',
      '/homeowners/bookings',
      '/service-providers/bookings',
      '/service-providers/requests',
    ]) {
      const user = url.startsWith('/homeowners') ? owner : pro;
      expectProblem(
        await t.app.inject({ method: 'GET', url: `${url}?cursor=bm9wZQ`, headers: user.headers }),
        400,
        'validation_failed',
      );
    }
  });
});
