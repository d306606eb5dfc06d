import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { type Answer, expectProblem } from '../helpers/problems.js';
import { sendRaw } from '../helpers/raw.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { create, NOWHERE, type OwnedResource } from './resource.js';

export interface ErrorSuite {
  t: TestContext;
  owner: TestUser;
  /** One of the owner's, created before the tests: the target of PUT, PATCH and their refusals. */
  existing: Record<string, unknown> & { id: string };
}

/** Asserts a 400 validation_failed problem that names `path` among its field errors. */
export function expectInvalid(res: Answer, path: string) {
  const problem = expectProblem(res, 400, 'validation_failed');
  expect(problem.errors?.map((error) => error.path)).toContain(path);
  return problem;
}

const ID_ROUTES = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;
const MALFORMED_IDS = ['not-a-uuid', '123', "1' or '1'='1", '018f0000-0000-7000-8000-00000000000g'];
const BAD_LIST_QUERIES: Array<[string, Record<string, string>, string]> = [
  ['limit 0', { limit: '0' }, '/querystring/limit'],
  ['limit 101', { limit: '101' }, '/querystring/limit'],
  ['a limit that is not a number', { limit: 'ten' }, '/querystring/limit'],
  ['a fractional limit', { limit: '2.5' }, '/querystring/limit'],
  ['a cursor with foreign characters', { cursor: '!!!' }, '/querystring/cursor'],
  ['a cursor that decodes to no id', { cursor: 'bm90LWFuLWlk' }, '/querystring/cursor'],
  ['an empty cursor', { cursor: '' }, '/querystring/cursor'],
  ['an unknown parameter', { sort: 'name' }, '/querystring/sort'],
];

/**
 * The refusals every owned resource makes, on an app of the test file's own: invalid and missing
 * fields on POST, PUT and PATCH (400 naming the field, nothing stored, the row unchanged), bodies
 * that are not a JSON object (400, 415), malformed and unknown ids (400, 404) and bad list
 * queries (400). The resource lists its invalid fields in `invalidFields`; its own rules (a
 * price rule, a year bound) stay in its test file, which uses the returned app.
 */
export function ownedResourceErrorSuite(resource: OwnedResource): ErrorSuite {
  const { noun, path, invalidFields, required } = resource;
  const suite = {} as ErrorSuite;
  beforeAll(async () => {
    suite.t = await createTestApp({ noSmtp: true });
    suite.owner = await loginAs(suite.t, [resource.ownerRole]);
    suite.existing = await create(suite.t, resource, suite.owner);
  });
  afterAll(() => suite.t?.close());

  const send = (method: 'POST' | 'PUT' | 'PATCH', payload: unknown, id?: string) =>
    suite.t.app.inject({
      method,
      url: id ? `${path}/${id}` : path,
      headers: suite.owner.headers,
      payload: payload as Record<string, unknown>,
    });
  const rowCount = async () => (await resource.rows(suite.t)).length;
  /** Runs `act`, then checks the existing row is exactly as it was. */
  const unchanged = async (act: () => Promise<void>) => {
    const before = await resource.row(suite.t, suite.existing.id);
    await act();
    expect(await resource.row(suite.t, suite.existing.id)).toEqual(before);
  };
  const without = (field: string, input: Record<string, unknown>) => {
    const copy = { ...input };
    delete copy[field];
    return copy;
  };

  describe(`POST ${path} refuses invalid input with 400 and stores nothing`, () => {
    it.each(invalidFields)('%s', async (_case, field, value) => {
      const before = await rowCount();
      expectInvalid(await send('POST', resource.input({ [field]: value })), `/body/${field}`);
      expect(await rowCount()).toBe(before);
    });

    it.each(required)('missing %s', async (field) => {
      const problem = expectInvalid(
        await send('POST', without(field, resource.input())),
        `/body/${field}`,
      );
      expect(problem.errors).toContainEqual({ path: `/body/${field}`, message: 'is required' });
    });

    it.each([
      ['an array', '[]'],
      ['a string', '"text"'],
      ['null', 'null'],
      ['broken JSON', '{"name": '],
    ])('a body that is %s', async (_case, body) => {
      const json = { url: path, contentType: 'application/json', headers: suite.owner.headers };
      expectProblem(await sendRaw(suite.t.app, { ...json, body }), 400, 'validation_failed');
    });

    it('a body that is not JSON: 415, nothing stored', async () => {
      const before = await rowCount();
      const res = await sendRaw(suite.t.app, {
        url: path,
        contentType: 'text/plain',
        body: 'name=thing',
        headers: suite.owner.headers,
      });
      expectProblem(res, 415, 'unsupported_media_type');
      expect(await rowCount()).toBe(before);
    });

    it(`a __proto__ key naming the ${resource.ownerField}: 400, nothing polluted`, async () => {
      const res = await sendRaw(suite.t.app, {
        url: path,
        contentType: 'application/json',
        body: `{"__proto__":{"${resource.ownerField}":"${NOWHERE}"}}`,
        headers: suite.owner.headers,
      });
      expectProblem(res, 400, 'validation_failed');
      expect(({} as Record<string, unknown>)[resource.ownerField]).toBeUndefined();
    });
  });

  describe(`PUT ${path}/{id} needs the whole input`, () => {
    it.each(required)('missing %s: 400, row unchanged', async (field) => {
      await unchanged(async () => {
        const input = without(field, resource.input(resource.change));
        expectInvalid(await send('PUT', input, suite.existing.id), `/body/${field}`);
      });
    });

    it.each(invalidFields)('%s: 400, row unchanged', async (_case, field, value) => {
      await unchanged(async () => {
        const input = resource.input({ [field]: value });
        expectInvalid(await send('PUT', input, suite.existing.id), `/body/${field}`);
      });
    });
  });

  describe(`PATCH ${path}/{id} refuses`, () => {
    it('an empty body', async () => {
      await unchanged(async () => {
        expectProblem(await send('PATCH', {}, suite.existing.id), 400, 'validation_failed');
      });
    });

    it.each(required)('null for the required field %s', async (field) => {
      await unchanged(async () => {
        expectInvalid(await send('PATCH', { [field]: null }, suite.existing.id), `/body/${field}`);
      });
    });

    it.each(invalidFields)('%s: 400, row unchanged', async (_case, field, value) => {
      await unchanged(async () => {
        expectInvalid(await send('PATCH', { [field]: value }, suite.existing.id), `/body/${field}`);
      });
    });
  });

  describe(`ids and query strings of ${noun}s`, () => {
    const withBody = (method: string) =>
      method === 'PUT'
        ? { payload: resource.input() }
        : method === 'PATCH'
          ? { payload: resource.change }
          : {};

    it.each(ID_ROUTES.flatMap((method) => MALFORMED_IDS.map((id) => [method, id] as const)))(
      '%s with the malformed id %s: 400',
      async (method, id) => {
        const res = await suite.t.app.inject({
          method,
          url: `${path}/${encodeURIComponent(id)}`,
          headers: suite.owner.headers,
          ...withBody(method),
        });
        expectInvalid(res, '/params/id');
      },
    );

    it.each(ID_ROUTES)('%s with an id that exists nowhere: 404', async (method) => {
      const res = await suite.t.app.inject({
        method,
        url: `${path}/${NOWHERE}`,
        headers: suite.owner.headers,
        ...withBody(method),
      });
      expectProblem(res, 404, 'not_found');
    });

    it.each(BAD_LIST_QUERIES)('listing with %s: 400', async (_case, query, where) => {
      const res = await suite.t.app.inject({
        method: 'GET',
        url: path,
        headers: suite.owner.headers,
        query,
      });
      expectInvalid(res, where);
    });
  });

  return suite;
}
