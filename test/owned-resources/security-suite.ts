import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem, expectUnauthorized } from '../helpers/problems.js';
import { createUser, login, loginAs, type TestUser } from '../helpers/users.js';
import { create, NOWHERE, type OwnedResource, SECRET_KEYS } from './resource.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ID_ROUTES = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;

export interface SecuritySuite {
  t: TestContext;
  owner: TestUser;
  /** Everyone who is not the owner, by how they relate to the owner's resource. */
  actors: Record<string, TestUser>;
}

/**
 * The OWASP API Top 10 checks every owned resource answers to, on an app of the test file's own:
 * BOLA (another user's item is a 404 and stays as it was), BFLA (who may call the routes at all),
 * mass assignment and data exposure. Returns the file's app and users for its own extra tests.
 */
export function ownedResourceSecuritySuite(resource: OwnedResource): SecuritySuite {
  const { noun, path } = resource;
  const plural = `${noun}s`.replace(/ys$/, 'ies');
  const another = `another ${resource.ownerLabel}`;
  const admin = 'an admin acting as a plain user';
  const both = `a ${resource.ownerLabel} who is also a ${resource.outsiderLabel}`;
  const outsider = `a ${resource.outsiderLabel}`;
  const nobody = 'a user without any role';
  const suite = {} as SecuritySuite;

  beforeAll(async () => {
    suite.t = await createTestApp({ noSmtp: true });
    suite.owner = await loginAs(suite.t, [resource.ownerRole]);
    suite.actors = {
      [another]: await loginAs(suite.t, [resource.ownerRole]),
      [admin]: await loginAs(suite.t, ['admin']),
      [both]: await loginAs(suite.t, [resource.ownerRole, resource.outsiderRole]),
      [outsider]: await loginAs(suite.t, [resource.outsiderRole]),
      [nobody]: await loginAs(suite.t, []),
    };
  });
  afterAll(() => suite.t?.close());

  const BODIES: Partial<Record<Method, object>> = {
    PUT: resource.replacement,
    PATCH: resource.change,
  };
  const call = (method: Method, id: string, headers: Record<string, string>) =>
    suite.t.app.inject({
      method,
      url: `${path}/${id}`,
      headers,
      ...(BODIES[method] ? { payload: BODIES[method] } : {}),
    });
  const list = (user: TestUser, query: Record<string, string> = {}) =>
    suite.t.app.inject({ method: 'GET', url: path, headers: user.headers, query });

  describe(`API1 BOLA: another user’s ${noun} is not found, and stays as it was`, () => {
    const CASES: Array<[string, number]> = [
      [another, 404],
      [admin, 404],
      [both, 404],
      [outsider, 403],
      [nobody, 403],
    ];

    it.each(ID_ROUTES.flatMap((method) => CASES.map(([actor, status]) => [method, actor, status])))(
      '%s by %s: %i',
      async (method, actor, status) => {
        const item = await create(suite.t, resource, suite.owner);
        const before = await resource.row(suite.t, item.id);
        const headers = suite.actors[actor as string]!.headers;
        const res = await call(method as Method, item.id, headers);
        if (status === 404) {
          expectProblem(res, 404, 'not_found');
          // Indistinguishable from an id that exists nowhere.
          const missing = await call(method as Method, NOWHERE, headers);
          expect(res.json().detail).toBe(missing.json().detail);
        } else {
          expectProblem(res, 403, 'forbidden');
        }
        expect(await resource.row(suite.t, item.id)).toEqual(before);
      },
    );

    it('the owner can still do all of it', async () => {
      const item = await create(suite.t, resource, suite.owner);
      for (const method of ID_ROUTES) {
        const res = await call(method, item.id, suite.owner.headers);
        expect(res.statusCode, `${method} ${res.body}`).toBe(method === 'DELETE' ? 204 : 200);
      }
    });

    it(`a list shows only the caller’s own ${plural}`, async () => {
      const mine = await create(suite.t, resource, suite.owner);
      const other = suite.actors[another]!;
      const theirs = await create(suite.t, resource, other);
      const res = await list(other, { limit: '100' });
      const items = res.json().items as Array<Record<string, unknown>>;
      const ids = items.map((item) => item.id);
      expect(ids).toContain(theirs.id);
      expect(ids).not.toContain(mine.id);
      for (const item of items) expect(item[resource.ownerField]).toBe(other.id);
    });

    it('a cursor taken from someone else’s list still pages only the caller’s own', async () => {
      const other = suite.actors[another]!;
      // Older than the cursor's position, so a page after it would show this one.
      await create(suite.t, resource, other);
      for (let i = 0; i < 3; i++) await create(suite.t, resource, suite.owner);
      const cursor = (await list(suite.owner, { limit: '1' })).json().nextCursor;
      expect(cursor).toEqual(expect.any(String));
      const res = await list(other, { cursor, limit: '100' });
      expect(res.statusCode).toBe(200);
      const items = res.json().items as Array<Record<string, unknown>>;
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(item[resource.ownerField]).toBe(other.id);
    });
  });

  describe(`API5 BFLA: who may call the ${noun} routes at all`, () => {
    const ROUTES: Array<[Method, string, () => object | undefined]> = [
      ['GET', path, () => undefined],
      ['POST', path, () => resource.input()],
      ['GET', `${path}/${NOWHERE}`, () => undefined],
      ['PUT', `${path}/${NOWHERE}`, () => resource.input()],
      ['PATCH', `${path}/${NOWHERE}`, () => resource.change],
      ['DELETE', `${path}/${NOWHERE}`, () => undefined],
    ];
    const inject = (method: Method, url: string, payload?: object, headers = {}) =>
      suite.t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

    it.each(ROUTES)('anonymous %s %s: 401 with WWW-Authenticate', async (method, url, body) => {
      expectUnauthorized(await inject(method, url, body()));
    });

    it.each(ROUTES)('a garbage token on %s %s: 401', async (method, url, body) => {
      const res = await inject(method, url, body(), { authorization: 'Bearer not.a.token' });
      expect(res.statusCode).toBe(401);
    });

    it.each(ROUTES)(`${outsider} on %s %s: 403`, async (method, url, body) => {
      const res = await inject(method, url, body(), suite.actors[outsider]!.headers);
      expectProblem(res, 403, 'forbidden');
    });

    it.each(ROUTES)('a user without roles on %s %s: 403', async (method, url, body) => {
      const res = await inject(method, url, body(), suite.actors[nobody]!.headers);
      expectProblem(res, 403, 'forbidden');
    });

    it(`${outsider}’s POST stores nothing`, async () => {
      const user = suite.actors[outsider]!;
      await inject('POST', path, resource.input(), user.headers);
      expect(await resource.rows(suite.t, user.id)).toEqual([]);
    });

    it(`losing the ${resource.ownerRole} role takes effect on the very next request`, async () => {
      const user = await createUser(suite.t, [resource.ownerRole]);
      const signedIn = await login(suite.t, user.email, user.password);
      expect((await inject('GET', path, undefined, signedIn.headers)).statusCode).toBe(200);
      const revoke = await suite.t.app.inject({
        method: 'DELETE',
        url: `/admin/users/${user.id}/roles/${resource.ownerRole}`,
        headers: suite.actors[admin]!.headers,
      });
      expect(revoke.statusCode).toBe(204);
      expectProblem(await inject('GET', path, undefined, signedIn.headers), 403, 'forbidden');
    });
  });

  describe('API3 mass assignment and data exposure', () => {
    const STAMP = '2000-01-01T00:00:00.000Z';
    it.each<[string, () => unknown]>([
      [resource.ownerField, () => suite.actors[another]!.id],
      ['id', () => NOWHERE],
      ['createdAt', () => STAMP],
      ['updatedAt', () => STAMP],
      ...(resource.internalFields ?? []).map(([field, value]): [string, () => unknown] => [
        field,
        () => value,
      ]),
    ])('%s in a POST body: 400, nothing stored for anyone', async (field, value) => {
      const before = await resource.rows(suite.t);
      const res = await suite.t.app.inject({
        method: 'POST',
        url: path,
        headers: suite.owner.headers,
        payload: resource.input({ [field]: value() }),
      });
      expect(expectProblem(res, 400, 'validation_failed').errors).toContainEqual({
        path: `/body/${field}`,
        message: 'is not an allowed field',
      });
      expect(await resource.rows(suite.t)).toEqual(before);
    });

    it.each<[Method, () => object]>([
      ['PUT', () => resource.input({ [resource.ownerField]: NOWHERE })],
      ['PATCH', () => ({ [resource.ownerField]: NOWHERE })],
      ['PATCH', () => ({ ...resource.change, id: NOWHERE })],
      ['PATCH', () => ({ createdAt: STAMP })],
      ['PATCH', () => ({ updatedAt: STAMP })],
    ])('%s with a server-owned field: 400, row unchanged', async (method, payload) => {
      const item = await create(suite.t, resource, suite.owner);
      const before = await resource.row(suite.t, item.id);
      const res = await suite.t.app.inject({
        method,
        url: `${path}/${item.id}`,
        headers: suite.owner.headers,
        payload: payload(),
      });
      expectProblem(res, 400, 'validation_failed');
      expect(await resource.row(suite.t, item.id)).toEqual(before);
    });

    it(`responses carry exactly the ${noun} fields, no secret anywhere`, async () => {
      const item = await create(suite.t, resource, suite.owner);
      const bodies = [
        (await call('GET', item.id, suite.owner.headers)).body,
        (await call('PATCH', item.id, suite.owner.headers)).body,
        (await list(suite.owner)).body,
      ];
      expect(Object.keys(JSON.parse(bodies[0]!)).sort()).toEqual(resource.keys);
      expect(Object.keys(JSON.parse(bodies[1]!)).sort()).toEqual(resource.keys);
      for (const listed of JSON.parse(bodies[2]!).items)
        expect(Object.keys(listed).sort()).toEqual(resource.keys);
      for (const body of bodies) expect(body).not.toMatch(SECRET_KEYS);
    });
  });

  return suite;
}
