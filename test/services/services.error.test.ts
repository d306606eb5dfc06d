import { count } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { services } from '../../src/db/schema.js';
import { expectInvalid, ownedResourceErrorSuite } from '../owned-resources/error-suite.js';
import { createService, SERVICE, SERVICES, serviceInput, serviceRow } from './support.js';

/** The shared refusals of an owned resource (fields, bodies, ids, queries), then the service's own. */
const suite = ownedResourceErrorSuite(SERVICE);

const serviceCount = async () =>
  (await suite.t.app.db.select({ n: count() }).from(services))[0]?.n ?? 0;

/** Bad items inside postalCodes name their index. */
const INVALID_POSTAL_CODES: Array<[string, unknown, string]> = [
  ['an empty postal code', ['94107', ''], '/body/postalCodes/1'],
  ['a postal code of punctuation', ['!!'], '/body/postalCodes/0'],
  ['a postal code over 16 characters', ['1'.repeat(17)], '/body/postalCodes/0'],
  ['a postal code with SQL', ["1' or 1=1 --"], '/body/postalCodes/0'],
  ['a postal code that is a number', [94107], '/body/postalCodes/0'],
  ['a postal code with a NUL byte', ['941\u000007'], '/body/postalCodes/0'],
];

describe('postal codes', () => {
  it.each(INVALID_POSTAL_CODES)('%s', async (_case, postalCodes, path) => {
    const res = await suite.t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: suite.owner.headers,
      payload: serviceInput({ postalCodes }),
    });
    expectInvalid(res, path);
  });
});

describe('the price rule', () => {
  it.each([
    ['fixed', undefined],
    ['fixed', null],
    ['hourly', undefined],
    ['hourly', null],
  ])('a %s service with priceCents %s: 400 naming priceCents', async (pricingModel, priceCents) => {
    const before = await serviceCount();
    const res = await suite.t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: suite.owner.headers,
      payload: serviceInput({ pricingModel, priceCents }),
    });
    expect(res.statusCode).toBe(400);
    // The schema states the rule (if pricingModel is not "quote", priceCents is an integer).
    expect(res.json().errors).toEqual([
      {
        path: '/body/priceCents',
        message: priceCents === null ? 'must be integer' : 'is required',
      },
    ]);
    expect(await serviceCount()).toBe(before);
  });

  it('PUT with a fixed price left out: 400, row unchanged', async () => {
    const before = await serviceRow(suite.t, suite.existing.id);
    const res = await suite.t.app.inject({
      method: 'PUT',
      url: `${SERVICES}/${suite.existing.id}`,
      headers: suite.owner.headers,
      payload: serviceInput({ priceCents: undefined }),
    });
    expectInvalid(res, '/body/priceCents');
    expect(await serviceRow(suite.t, suite.existing.id)).toEqual(before);
  });

  it.each([
    ['fixed on a quote service without a price', 'quote', { pricingModel: 'fixed' }],
    ['hourly on a quote service without a price', 'quote', { pricingModel: 'hourly' }],
    ['a null price on a fixed service', 'fixed', { priceCents: null }],
    ['a null price on an hourly service', 'hourly', { priceCents: null }],
    ['hourly with a null price', 'quote', { pricingModel: 'hourly', priceCents: null }],
  ])('PATCH %s: 400, row unchanged', async (_case, pricingModel, changes) => {
    const service = await createService(suite.t, suite.owner, {
      pricingModel,
      priceCents: pricingModel === 'quote' ? null : 700,
    });
    const before = await serviceRow(suite.t, service.id);
    const res = await suite.t.app.inject({
      method: 'PATCH',
      url: `${SERVICES}/${service.id}`,
      headers: suite.owner.headers,
      payload: changes,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors).toEqual([
      { path: '/body/priceCents', message: 'is required unless pricingModel is "quote"' },
    ]);
    expect(await serviceRow(suite.t, service.id)).toEqual(before);
  });
});
