import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { createService, NOWHERE, SERVICES, serviceInput, serviceRow } from './support.js';

let t: TestContext;
let provider: TestUser;
let existing: { id: string };
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  provider = await loginAs(t, ['service_provider']);
  existing = await createService(t, provider);
});
afterAll(() => t?.close());

const serviceCount = async () => (await t.app.db.select({ n: count() }).from(services))[0]?.n ?? 0;

function expectInvalid(res: { statusCode: number; body: string }, path: string) {
  expect(res.statusCode, res.body).toBe(400);
  const body = JSON.parse(res.body);
  expect(body.code).toBe('validation_failed');
  expect(body.errors.map((error: { path: string }) => error.path)).toContain(path);
}

const fiftyOne = Array.from({ length: 51 }, (_, i) => String(10_000 + i));

/** [what is wrong, the field, its value]: each must be refused with 400 naming the field. */
const INVALID_FIELDS: Array<[string, string, unknown]> = [
  ['empty title', 'title', ''],
  ['blank title', 'title', ' \t '],
  ['title over 120 characters', 'title', 't'.repeat(121)],
  ['a line break in the title', 'title', 'Leak\nrepair'],
  ['a NUL byte in the title', 'title', 'Leak\u0000'],
  ['title as a number', 'title', 7],
  ['empty description', 'description', ''],
  ['description over 5000 characters', 'description', 'd'.repeat(5001)],
  ['a control character in the description', 'description', 'bell \u0007'],
  ['unknown category', 'category', 'astrology'],
  ['category in another case', 'category', 'Plumbing'],
  ['unknown pricing model', 'pricingModel', 'free'],
  ['negative price', 'priceCents', -1],
  ['fractional price', 'priceCents', 10.5],
  ['price over the maximum', 'priceCents', 100_000_001],
  ['price as a string', 'priceCents', '1000'],
  ['lower-case currency', 'currency', 'usd'],
  ['unknown currency', 'currency', 'ABC'],
  ['gold is not a currency here', 'currency', 'XAU'],
  ['the testing code', 'currency', 'XTS'],
  ['a withdrawn currency', 'currency', 'HRK'],
  ['empty currency', 'currency', ''],
  ['null currency', 'currency', null],
  ['no postal codes', 'postalCodes', []],
  ['51 postal codes', 'postalCodes', fiftyOne],
  ['the same postal code twice', 'postalCodes', ['94107', '94107']],
  ['postal codes as a string', 'postalCodes', '94107'],
  ['a null postal code', 'postalCodes', null],
  ['isActive as a string', 'isActive', 'yes'],
  ['isActive as a number', 'isActive', 1],
  ['null isActive', 'isActive', null],
  ['id in the body', 'id', NOWHERE],
  ['providerId in the body', 'providerId', NOWHERE],
  ['createdAt in the body', 'createdAt', '2020-01-01T00:00:00Z'],
  ['the search document in the body', 'search', "'leak':1"],
  ['an unknown field', 'featured', true],
];

/** Bad items inside postalCodes name their index. */
const INVALID_POSTAL_CODES: Array<[string, unknown, string]> = [
  ['an empty postal code', ['94107', ''], '/body/postalCodes/1'],
  ['a postal code of punctuation', ['!!'], '/body/postalCodes/0'],
  ['a postal code over 16 characters', ['1'.repeat(17)], '/body/postalCodes/0'],
  ['a postal code with SQL', ["1' or 1=1 --"], '/body/postalCodes/0'],
  ['a postal code that is a number', [94107], '/body/postalCodes/0'],
  ['a postal code with a NUL byte', ['941\u000007'], '/body/postalCodes/0'],
];

const REQUIRED = ['title', 'description', 'category', 'pricingModel', 'postalCodes'];

describe('POST /service-providers/services refuses invalid input with 400 and stores nothing', () => {
  it.each(INVALID_FIELDS)('%s', async (_case, field, value) => {
    const before = await serviceCount();
    const res = await t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: provider.headers,
      payload: serviceInput({ [field]: value }),
    });
    expectInvalid(res, `/body/${field}`);
    expect(await serviceCount()).toBe(before);
  });

  it.each(INVALID_POSTAL_CODES)('%s', async (_case, postalCodes, path) => {
    const res = await t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: provider.headers,
      payload: serviceInput({ postalCodes }),
    });
    expectInvalid(res, path);
  });

  it.each(REQUIRED)('missing %s', async (field) => {
    const input = serviceInput();
    delete input[field];
    const res = await t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: provider.headers,
      payload: input,
    });
    expectInvalid(res, `/body/${field}`);
  });

  it.each([
    ['fixed', undefined],
    ['fixed', null],
    ['hourly', undefined],
    ['hourly', null],
  ])('a %s service with priceCents %s: 400 naming priceCents', async (pricingModel, priceCents) => {
    const before = await serviceCount();
    const res = await t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: provider.headers,
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
});

describe('PUT /service-providers/services/{id} needs the whole ServiceInput', () => {
  it.each(REQUIRED)('missing %s: 400, row unchanged', async (field) => {
    const before = await serviceRow(t, existing.id);
    const input = serviceInput({ title: 'Changed' });
    delete input[field];
    const res = await t.app.inject({
      method: 'PUT',
      url: `${SERVICES}/${existing.id}`,
      headers: provider.headers,
      payload: input,
    });
    expectInvalid(res, `/body/${field}`);
    expect(await serviceRow(t, existing.id)).toEqual(before);
  });

  it.each(INVALID_FIELDS)('%s: 400, row unchanged', async (_case, field, value) => {
    const before = await serviceRow(t, existing.id);
    const res = await t.app.inject({
      method: 'PUT',
      url: `${SERVICES}/${existing.id}`,
      headers: provider.headers,
      payload: serviceInput({ [field]: value }),
    });
    expectInvalid(res, `/body/${field}`);
    expect(await serviceRow(t, existing.id)).toEqual(before);
  });

  it('a fixed price left out: 400, row unchanged', async () => {
    const before = await serviceRow(t, existing.id);
    const res = await t.app.inject({
      method: 'PUT',
      url: `${SERVICES}/${existing.id}`,
      headers: provider.headers,
      payload: serviceInput({ priceCents: undefined }),
    });
    expectInvalid(res, '/body/priceCents');
    expect(await serviceRow(t, existing.id)).toEqual(before);
  });
});

describe('PATCH /service-providers/services/{id} refuses', () => {
  const patch = (id: string, payload: unknown) =>
    t.app.inject({
      method: 'PATCH',
      url: `${SERVICES}/${id}`,
      headers: provider.headers,
      payload: payload as object,
    });

  it('an empty body', async () => {
    const res = await patch(existing.id, {});
    expect(res.statusCode).toBe(400);
  });

  it.each(INVALID_FIELDS)('%s: 400, row unchanged', async (_case, field, value) => {
    const before = await serviceRow(t, existing.id);
    expectInvalid(await patch(existing.id, { [field]: value }), `/body/${field}`);
    expect(await serviceRow(t, existing.id)).toEqual(before);
  });

  it.each(['title', 'description', 'category', 'pricingModel', 'postalCodes'])(
    'null for the required field %s',
    async (field) => {
      expectInvalid(await patch(existing.id, { [field]: null }), `/body/${field}`);
    },
  );

  it.each([
    ['fixed on a quote service without a price', 'quote', { pricingModel: 'fixed' }],
    ['hourly on a quote service without a price', 'quote', { pricingModel: 'hourly' }],
    ['a null price on a fixed service', 'fixed', { priceCents: null }],
    ['a null price on an hourly service', 'hourly', { priceCents: null }],
    ['hourly with a null price', 'quote', { pricingModel: 'hourly', priceCents: null }],
  ])('%s: 400, row unchanged', async (_case, pricingModel, changes) => {
    const service = await createService(t, provider, {
      pricingModel,
      priceCents: pricingModel === 'quote' ? null : 700,
    });
    const before = await serviceRow(t, service.id);
    const res = await patch(service.id, changes);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors).toEqual([
      { path: '/body/priceCents', message: 'is required unless pricingModel is "quote"' },
    ]);
    expect(await serviceRow(t, service.id)).toEqual(before);
  });
});

describe('ids and query strings', () => {
  const ROUTES = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;
  const withBody = (method: string) =>
    method === 'PUT' || method === 'PATCH' ? { payload: serviceInput() } : {};

  it.each(ROUTES)('%s with a malformed id: 400', async (method) => {
    const res = await t.app.inject({
      method,
      url: `${SERVICES}/not-a-uuid`,
      headers: provider.headers,
      ...withBody(method),
    });
    expectInvalid(res, '/params/id');
  });

  it.each(ROUTES)('%s with an id that exists nowhere: 404', async (method) => {
    const res = await t.app.inject({
      method,
      url: `${SERVICES}/${NOWHERE}`,
      headers: provider.headers,
      ...withBody(method),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });

  it.each([
    ['limit 0', { limit: '0' }, '/querystring/limit'],
    ['limit 101', { limit: '101' }, '/querystring/limit'],
    ['a cursor that decodes to no id', { cursor: 'bm90LWFuLWlk' }, '/querystring/cursor'],
    ['an unknown parameter', { active: 'true' }, '/querystring/active'],
  ])('listing with %s: 400', async (_case, query, path) => {
    const res = await t.app.inject({
      method: 'GET',
      url: SERVICES,
      headers: provider.headers,
      query,
    });
    expectInvalid(res, path);
  });
});
