import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { properties } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { createProperty, PROPERTIES, propertyInput, propertyRow } from './support.js';

let t: TestContext;
let owner: TestUser;
let existing: { id: string };
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  owner = await loginAs(t, ['homeowner']);
  existing = await createProperty(t, owner);
});
afterAll(() => t?.close());

const propertyCount = async () =>
  (await t.app.db.select({ n: count() }).from(properties))[0]?.n ?? 0;

/** Asserts a 400 validation_failed problem that names `path` among its field errors. */
function expectInvalid(res: { statusCode: number; body: string; headers: object }, path: string) {
  expect(res.statusCode, res.body).toBe(400);
  expect(String((res.headers as Record<string, unknown>)['content-type'])).toMatch(
    /^application\/problem\+json/,
  );
  const body = JSON.parse(res.body);
  expect(body.code).toBe('validation_failed');
  expect(body.errors.map((error: { path: string }) => error.path)).toContain(path);
}

const nextYear = () => new Date().getUTCFullYear() + 1;

/** [what is wrong, the field, its value]: each must be refused with 400 naming the field. */
const INVALID_FIELDS: Array<[string, string, unknown]> = [
  ['empty name', 'name', ''],
  ['blank name', 'name', '   '],
  ['name over 100 characters', 'name', 'n'.repeat(101)],
  ['name as a number', 'name', 42],
  ['null name', 'name', null],
  ['a NUL byte in the name', 'name', 'Lake\u0000house'],
  ['a line break in the name', 'name', 'Lake\nhouse'],
  ['empty addressLine1', 'addressLine1', ''],
  ['addressLine1 over 200 characters', 'addressLine1', 'a'.repeat(201)],
  ['blank addressLine2', 'addressLine2', ' '],
  ['addressLine2 over 200 characters', 'addressLine2', 'a'.repeat(201)],
  ['empty city', 'city', ''],
  ['city over 100 characters', 'city', 'c'.repeat(101)],
  ['empty region', 'region', ''],
  ['region as an object', 'region', { name: 'IL' }],
  ['empty postal code', 'postalCode', ''],
  ['postal code of punctuation', 'postalCode', '!!!'],
  ['postal code over 16 characters', 'postalCode', '1'.repeat(17)],
  ['postal code with SQL in it', 'postalCode', "1' or '1'='1"],
  ['lower-case country', 'country', 'us'],
  ['alpha-3 country', 'country', 'USA'],
  ['reserved country code UK', 'country', 'UK'],
  ['user-assigned country code XK', 'country', 'XK'],
  ['unassigned country code ZZ', 'country', 'ZZ'],
  ['empty country', 'country', ''],
  ['unknown property type', 'propertyType', 'castle'],
  ['property type in another case', 'propertyType', 'Condo'],
  ['year before 1600', 'yearBuilt', 1599],
  ['fractional year', 'yearBuilt', 1999.5],
  ['year as a string', 'yearBuilt', '1999'],
  ['year after next year', 'yearBuilt', nextYear() + 1],
  ['year far in the future', 'yearBuilt', 1e15],
  ['zero floor area', 'floorAreaSqft', 0],
  ['negative floor area', 'floorAreaSqft', -10],
  ['fractional floor area', 'floorAreaSqft', 10.5],
  ['floor area over ten million', 'floorAreaSqft', 10_000_001],
  ['floor area as a string', 'floorAreaSqft', '100'],
  ['notes over 2000 characters', 'notes', 'x'.repeat(2001)],
  ['empty notes', 'notes', ''],
  ['a NUL byte in the notes', 'notes', 'a\u0000b'],
  ['id in the body', 'id', '018f0000-0000-7000-8000-000000000000'],
  ['ownerId in the body', 'ownerId', '018f0000-0000-7000-8000-000000000000'],
  ['createdAt in the body', 'createdAt', '2020-01-01T00:00:00Z'],
  ['updatedAt in the body', 'updatedAt', '2020-01-01T00:00:00Z'],
  ['an unknown field', 'isFavourite', true],
];

const REQUIRED = [
  'name',
  'addressLine1',
  'city',
  'region',
  'postalCode',
  'country',
  'propertyType',
];

describe('POST /homeowners/properties refuses invalid input with 400 and stores nothing', () => {
  it.each(INVALID_FIELDS)('%s', async (_case, field, value) => {
    const before = await propertyCount();
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: propertyInput({ [field]: value }),
    });
    expectInvalid(res, `/body/${field}`);
    expect(await propertyCount()).toBe(before);
  });

  it.each(REQUIRED)('missing %s', async (field) => {
    const input = propertyInput();
    delete input[field];
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: input,
    });
    expectInvalid(res, `/body/${field}`);
    expect(JSON.parse(res.body).errors).toContainEqual({
      path: `/body/${field}`,
      message: 'is required',
    });
  });

  it('says what the latest accepted year is', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: propertyInput({ yearBuilt: nextYear() + 1 }),
    });
    // The schema's bound (as the document shows it), beside the other branch of the nullable type.
    expect(res.json().errors).toContainEqual({
      path: '/body/yearBuilt',
      message: `must be <= ${nextYear()}`,
    });
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"house"'],
    ['null', 'null'],
    ['broken JSON', '{"name": '],
  ])('a body that is %s', async (_case, payload) => {
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: { ...owner.headers, 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
  });

  it('a body that is not JSON: 415, nothing stored', async () => {
    const before = await propertyCount();
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: { ...owner.headers, 'content-type': 'text/plain' },
      payload: 'name=house',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('unsupported_media_type');
    expect(await propertyCount()).toBe(before);
  });

  it('a __proto__ key: 400, nothing polluted', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: { ...owner.headers, 'content-type': 'application/json' },
      payload: `{"name":"x","__proto__":{"ownerId":"${owner.id}"}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).ownerId).toBeUndefined();
  });
});

describe('PUT /homeowners/properties/{id} needs the whole PropertyInput', () => {
  it.each(REQUIRED)('missing %s: 400, row unchanged', async (field) => {
    const before = await propertyRow(t, existing.id);
    const input = propertyInput({ name: 'Changed' });
    delete input[field];
    const res = await t.app.inject({
      method: 'PUT',
      url: `${PROPERTIES}/${existing.id}`,
      headers: owner.headers,
      payload: input,
    });
    expectInvalid(res, `/body/${field}`);
    expect(await propertyRow(t, existing.id)).toEqual(before);
  });

  it.each(INVALID_FIELDS)('%s: 400, row unchanged', async (_case, field, value) => {
    const before = await propertyRow(t, existing.id);
    const res = await t.app.inject({
      method: 'PUT',
      url: `${PROPERTIES}/${existing.id}`,
      headers: owner.headers,
      payload: propertyInput({ [field]: value }),
    });
    expectInvalid(res, `/body/${field}`);
    expect(await propertyRow(t, existing.id)).toEqual(before);
  });
});

describe('PATCH /homeowners/properties/{id} refuses', () => {
  it('an empty body', async () => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${existing.id}`,
      headers: owner.headers,
      payload: {},
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
  });

  it.each(REQUIRED)('null for the required field %s', async (field) => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${existing.id}`,
      headers: owner.headers,
      payload: { [field]: null },
    });
    expectInvalid(res, `/body/${field}`);
  });

  it.each(INVALID_FIELDS)('%s: 400, row unchanged', async (_case, field, value) => {
    const before = await propertyRow(t, existing.id);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${existing.id}`,
      headers: owner.headers,
      payload: { [field]: value },
    });
    expectInvalid(res, `/body/${field}`);
    expect(await propertyRow(t, existing.id)).toEqual(before);
  });
});

describe('ids and query strings', () => {
  const ROUTES = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;
  const MALFORMED = ['not-a-uuid', '123', "1' or '1'='1", '018f0000-0000-7000-8000-00000000000g'];

  it.each(ROUTES.flatMap((method) => MALFORMED.map((id) => [method, id] as const)))(
    '%s with the malformed id %s: 400',
    async (method, id) => {
      const res = await t.app.inject({
        method,
        url: `${PROPERTIES}/${encodeURIComponent(id)}`,
        headers: owner.headers,
        ...(method === 'PUT' || method === 'PATCH' ? { payload: propertyInput() } : {}),
      });
      expectInvalid(res, '/params/id');
    },
  );

  it.each(ROUTES)('%s with an id that exists nowhere: 404', async (method) => {
    const res = await t.app.inject({
      method,
      url: `${PROPERTIES}/018f0000-0000-7000-8000-000000000000`,
      headers: owner.headers,
      ...(method === 'PUT' || method === 'PATCH' ? { payload: propertyInput() } : {}),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });

  it.each([
    ['limit 0', { limit: '0' }, '/querystring/limit'],
    ['limit 101', { limit: '101' }, '/querystring/limit'],
    ['a limit that is not a number', { limit: 'ten' }, '/querystring/limit'],
    ['a fractional limit', { limit: '2.5' }, '/querystring/limit'],
    ['a cursor with foreign characters', { cursor: '!!!' }, '/querystring/cursor'],
    ['a cursor that decodes to no id', { cursor: 'bm90LWFuLWlk' }, '/querystring/cursor'],
    ['an empty cursor', { cursor: '' }, '/querystring/cursor'],
    ['an unknown parameter', { sort: 'name' }, '/querystring/sort'],
  ])('listing with %s: 400', async (_case, query, path) => {
    const res = await t.app.inject({
      method: 'GET',
      url: PROPERTIES,
      headers: owner.headers,
      query,
    });
    expectInvalid(res, path);
  });
});
