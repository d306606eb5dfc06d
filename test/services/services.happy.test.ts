import { beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { ownedResourceHappySuite } from '../owned-resources/happy-suite.js';
import { createService, SERVICE, SERVICES, serviceInput, serviceRow } from './support.js';

// Create, read, delete, list and paging, account deletion: the shared owned-resource suite.
const suite = ownedResourceHappySuite(SERVICE);

// The service's own rules (pricing models, defaults, postal codes), on the suite's app.
let t: TestContext;
let provider: TestUser;
beforeAll(() => {
  ({ t, owner: provider } = suite);
});

const patch = (id: string, payload: object, who = provider) =>
  t.app.inject({ method: 'PATCH', url: `${SERVICES}/${id}`, headers: who.headers, payload });

describe('POST /service-providers/services', () => {
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

describe('GET /service-providers/services', () => {
  it('lists the provider’s own services, active or not, newest first', async () => {
    const lister = await loginAs(t, ['service_provider']);
    const active = await createService(t, lister);
    const inactive = await createService(t, lister, { isActive: false });
    const res = await t.app.inject({ method: 'GET', url: SERVICES, headers: lister.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [inactive, active], nextCursor: null });
  });
});
