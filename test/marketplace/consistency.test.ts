import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';
import { booked, homeowner, openRequest, provider, submitQuote } from './support.js';

/** Closing an account or withdrawing a service ends what hangs on it; a booked job survives. */
const t = await createTestApp({ noSmtp: true });
afterAll(() => t.close());

type Rows = { rows: Array<Record<string, unknown>> };
const stateOf = async (table: string, id: string) =>
  (
    (await t.app.db.execute(
      sql`select state from ${sql.identifier(table)} where id = ${id}`,
    )) as unknown as Rows
  ).rows[0]?.state;

describe('deleting a homeowner account', () => {
  it('cancels their open requests and declines the quotes on them; a booking survives for admins', async () => {
    const { owner, bookingId, requestId: bookedRequest } = await booked(t);
    const openId = await openRequest(t, owner);
    const pro = await provider(t);
    const quoteId = await submitQuote(t, pro, openId);

    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: owner.headers,
      payload: { password: owner.password },
    });
    expect(res.statusCode).toBe(204);

    expect(await stateOf('job_requests', openId)).toBe('cancelled');
    expect(await stateOf('quotes', quoteId)).toBe('declined');
    expect(await stateOf('job_requests', bookedRequest)).toBe('booked');
    expect(await stateOf('bookings', bookingId)).toBe('scheduled');

    const admin = await loginAs(t, ['admin']);
    const seen = await t.app.inject({
      method: 'GET',
      url: `/bookings/${bookingId}`,
      headers: admin.headers,
    });
    expect(seen.statusCode).toBe(200);
    expect(seen.json()).toMatchObject({ id: bookingId, homeowner: null, address: null });
    const list = await t.app.inject({
      method: 'GET',
      url: '/admin/bookings?state=scheduled',
      headers: admin.headers,
    });
    expect(list.json().items.map((b: { id: string }) => b.id)).toContain(bookingId);
  });
});

describe('disabling a provider', () => {
  it('withdraws their live quotes; their bookings stay', async () => {
    const { pro, bookingId } = await booked(t);
    const owner = await homeowner(t);
    const requestId = await openRequest(t, owner);
    const quoteId = await submitQuote(t, pro, requestId);

    const admin = await loginAs(t, ['admin']);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${pro.id}`,
      headers: admin.headers,
      payload: { isActive: false },
    });
    expect(res.statusCode).toBe(200);
    expect(await stateOf('quotes', quoteId)).toBe('withdrawn');
    expect(await stateOf('job_requests', requestId)).toBe('open');
    expect(await stateOf('bookings', bookingId)).toBe('scheduled');
  });
});

describe('withdrawing a service', () => {
  for (const [how, request] of [
    ['deactivating it (PATCH)', { method: 'PATCH', payload: { isActive: false } }],
    [
      'deactivating it (PUT)',
      {
        method: 'PUT',
        payload: {
          title: 'Plumbing repairs',
          description: 'Leaks, taps and pipes.',
          category: 'plumbing',
          pricingModel: 'quote',
          postalCodes: ['62701'],
          isActive: false,
        },
      },
    ],
    ['deleting it', { method: 'DELETE' }],
  ] as const) {
    it(`${how} withdraws the live quotes made through it`, async () => {
      const owner = await homeowner(t);
      const pro = await provider(t);
      const requestId = await openRequest(t, owner);
      const quoteId = await submitQuote(t, pro, requestId);
      const res = await t.app.inject({
        method: request.method,
        url: `/service-providers/services/${pro.serviceId}`,
        headers: pro.headers,
        ...('payload' in request && { payload: request.payload }),
      });
      expect(res.statusCode).toBeLessThan(300);
      expect(await stateOf('quotes', quoteId)).toBe('withdrawn');
      expect(await stateOf('job_requests', requestId)).toBe('open');
    });
  }

  it('leaves the quotes of a service that stays active alone', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    const quoteId = await submitQuote(t, pro, requestId);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/service-providers/services/${pro.serviceId}`,
      headers: pro.headers,
      payload: { title: 'Plumbing and heating' },
    });
    expect(res.statusCode).toBe(200);
    expect(await stateOf('quotes', quoteId)).toBe('live');
  });
});
