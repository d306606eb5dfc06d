import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, STRONG_PASSWORD, type TestUser } from '../helpers/users.js';
import { walkPages } from '../properties/support.js';
import { createService, SERVICE_KEYS, SERVICES, serviceInput, serviceRow } from './support.js';

let t: TestContext;
let provider: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  provider = await loginAs(t, ['service_provider']);
});
afterAll(() => t?.close());

const patch = (id: string, payload: object, who = provider) =>
  t.app.inject({ method: 'PATCH', url: `${SERVICES}/${id}`, headers: who.headers, payload });

describe('POST /service-providers/services', () => {
  it('publishes a service: 201, Location, the Service with its defaults', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: provider.headers,
      payload: serviceInput(),
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(res.headers.location).toBe(`${SERVICES}/${body.id}`);
    expect(Object.keys(body).sort()).toEqual(SERVICE_KEYS);
    expect(body).toMatchObject({
      ...serviceInput(),
      providerId: provider.id,
      currency: 'USD',
      isActive: true,
    });
    expect(await serviceRow(t, body.id)).toMatchObject({
      providerId: provider.id,
      currency: 'USD',
      isActive: true,
    });
  });

  it('takes every field when given', async () => {
    const input = serviceInput({
      category: 'hvac',
      pricingModel: 'hourly',
      priceCents: 0,
      currency: 'EUR',
      postalCodes: ['75001', '75002'],
      isActive: false,
    });
    expect(await createService(t, provider, input)).toMatchObject(input);
  });

  it('a "quote" service needs no price', async () => {
    const body = await createService(t, provider, {
      pricingModel: 'quote',
      priceCents: undefined,
    });
    expect(body).toMatchObject({ pricingModel: 'quote', priceCents: null });
    const withNull = await createService(t, provider, { pricingModel: 'quote', priceCents: null });
    expect(withNull.priceCents).toBeNull();
    const withPrice = await createService(t, provider, { pricingModel: 'quote', priceCents: 5000 });
    expect(withPrice.priceCents).toBe(5000);
  });

  it('accepts every category', async () => {
    for (const category of [
      'plumbing',
      'electrical',
      'hvac',
      'roofing',
      'cleaning',
      'landscaping',
      'painting',
      'carpentry',
      'pest_control',
      'appliance_repair',
      'handyman',
      'moving',
      'other',
    ]) {
      expect((await createService(t, provider, { category })).category).toBe(category);
    }
  });

  it('trims typed text; postal codes trimmed, upper-cased, inner spaces collapsed, deduplicated', async () => {
    const body = await createService(t, provider, {
      title: '  Roof check ',
      description: '\n Gutters too. \n',
      postalCodes: [' sw1a  1aa', 'SW1A 1AA', '10115 ', 'k1a 0b1'],
    });
    expect(body).toMatchObject({
      title: 'Roof check',
      description: 'Gutters too.',
      postalCodes: ['SW1A 1AA', '10115', 'K1A 0B1'],
    });
  });

  it('takes the bounds: 50 postal codes, the largest price, long text', async () => {
    const postalCodes = Array.from({ length: 50 }, (_, i) => String(10_000 + i));
    const body = await createService(t, provider, {
      postalCodes,
      priceCents: 100_000_000,
      title: 't'.repeat(120),
      description: 'd'.repeat(5000),
    });
    expect(body.postalCodes).toEqual(postalCodes);
    expect(body.priceCents).toBe(100_000_000);
  });
});

describe('GET /service-providers/services/{id}', () => {
  it('returns the provider’s service as created', async () => {
    const created = await createService(t, provider);
    const res = await t.app.inject({
      method: 'GET',
      url: `${SERVICES}/${created.id}`,
      headers: provider.headers,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
  });
});

describe('PUT /service-providers/services/{id}', () => {
  it('replaces every field: no price, USD and active again when left out', async () => {
    const created = await createService(t, provider, {
      currency: 'GBP',
      isActive: false,
      priceCents: 900,
    });
    const res = await t.app.inject({
      method: 'PUT',
      url: `${SERVICES}/${created.id}`,
      headers: provider.headers,
      payload: {
        title: 'Quotes only',
        description: 'Ask us.',
        category: 'roofing',
        pricingModel: 'quote',
        postalCodes: ['12345'],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      id: created.id,
      providerId: provider.id,
      title: 'Quotes only',
      pricingModel: 'quote',
      priceCents: null,
      currency: 'USD',
      isActive: true,
      postalCodes: ['12345'],
      createdAt: created.createdAt,
    });
  });
});

describe('PATCH /service-providers/services/{id}', () => {
  it('changes only the fields sent', async () => {
    const created = await createService(t, provider);
    const res = await patch(created.id, { title: ' New title ', postalCodes: ['90210'] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      ...serviceInput(),
      title: 'New title',
      postalCodes: ['90210'],
    });
  });

  it('does not reset what it leaves out (currency, isActive)', async () => {
    const created = await createService(t, provider, { currency: 'JPY', isActive: false });
    const res = await patch(created.id, { title: 'Still yen' });
    expect(res.json()).toMatchObject({ currency: 'JPY', isActive: false });
  });

  it('switches a quote service to fixed when the price comes with it', async () => {
    const created = await createService(t, provider, { pricingModel: 'quote', priceCents: null });
    const res = await patch(created.id, { pricingModel: 'fixed', priceCents: 4200 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pricingModel: 'fixed', priceCents: 4200 });
  });

  it('switches a priced quote service to hourly on its existing price', async () => {
    const created = await createService(t, provider, { pricingModel: 'quote', priceCents: 100 });
    const res = await patch(created.id, { pricingModel: 'hourly' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pricingModel: 'hourly', priceCents: 100 });
  });

  it('drops the price of a service that becomes "quote"', async () => {
    const created = await createService(t, provider);
    const res = await patch(created.id, { pricingModel: 'quote', priceCents: null });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pricingModel: 'quote', priceCents: null });
  });

  it('deactivates and reactivates', async () => {
    const created = await createService(t, provider);
    expect((await patch(created.id, { isActive: false })).json().isActive).toBe(false);
    expect((await serviceRow(t, created.id))?.isActive).toBe(false);
    expect((await patch(created.id, { isActive: true })).json().isActive).toBe(true);
  });
});

describe('DELETE /service-providers/services/{id}', () => {
  it('deletes with 204; the service is gone', async () => {
    const created = await createService(t, provider);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `${SERVICES}/${created.id}`,
      headers: provider.headers,
    });
    expect(res.statusCode).toBe(204);
    expect(await serviceRow(t, created.id)).toBeUndefined();
  });
});

describe('GET /service-providers/services', () => {
  it('lists the provider’s own services, active or not, newest first', async () => {
    const lister = await loginAs(t, ['service_provider']);
    const active = await createService(t, lister);
    const inactive = await createService(t, lister, { isActive: false });
    const res = await t.app.inject({ method: 'GET', url: SERVICES, headers: lister.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [inactive, active], nextCursor: null });
  });

  it('walks 25 services in pages of 10 with no repeat or gap, even as new ones arrive', async () => {
    const walker = await loginAs(t, ['service_provider']);
    const before: string[] = [];
    for (let i = 0; i < 25; i++) before.push((await createService(t, walker)).id);
    const addedMidWalk: string[] = [];
    const { ids, pageSizes } = await walkPages(
      async (cursor) => {
        const res = await t.app.inject({
          method: 'GET',
          url: SERVICES,
          headers: walker.headers,
          query: { limit: '10', ...(cursor && { cursor }) },
        });
        expect(res.statusCode, res.body).toBe(200);
        return res.json();
      },
      async () => {
        addedMidWalk.push((await createService(t, walker)).id);
      },
    );
    expect(pageSizes).toEqual([10, 10, 5]);
    expect(ids).toEqual([...before].reverse());
    expect(ids.some((id) => addedMidWalk.includes(id))).toBe(false);
  });
});

describe('deleting the account', () => {
  it('removes the provider’s services with it', async () => {
    const leaving = await loginAs(t, ['service_provider']);
    const a = await createService(t, leaving);
    const b = await createService(t, leaving, { isActive: false });
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: leaving.headers,
      payload: { password: STRONG_PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(await serviceRow(t, a.id)).toBeUndefined();
    expect(await serviceRow(t, b.id)).toBeUndefined();
    expect(
      await t.app.db.select().from(services).where(eq(services.providerId, leaving.id)),
    ).toEqual([]);
  });
});
