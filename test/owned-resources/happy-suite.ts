import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { walkPages } from '../helpers/pagination.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs, STRONG_PASSWORD, type TestUser } from '../helpers/users.js';
import { create, type OwnedResource } from './resource.js';

export interface HappySuite {
  t: TestContext;
  owner: TestUser;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * What every owned resource does for its owner, on an app of the test file's own: create, read,
 * delete, list newest first in keyset pages, and go with the owner's account. The resource's own
 * rules (its fields, PUT and PATCH semantics) stay in its test file, which uses the returned app.
 */
export function ownedResourceHappySuite(resource: OwnedResource): HappySuite {
  const { noun, path } = resource;
  const plural = `${noun}s`.replace(/ys$/, 'ies');
  const suite = {} as HappySuite;
  beforeAll(async () => {
    suite.t = await createTestApp({ noSmtp: true });
    suite.owner = await loginAs(suite.t, [resource.ownerRole]);
  });
  afterAll(() => suite.t?.close());

  const get = (user: TestUser, url: string, query: Record<string, string> = {}) =>
    suite.t.app.inject({ method: 'GET', url, headers: user.headers, query });

  describe(`POST ${path}`, () => {
    it(`creates a ${noun} owned by the caller: 201, Location, the ${noun}`, async () => {
      const { t, owner } = suite;
      const res = await t.app.inject({
        method: 'POST',
        url: path,
        headers: owner.headers,
        payload: resource.input(),
      });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();
      expect(res.headers.location).toBe(`${path}/${body.id}`);
      expect(Object.keys(body).sort()).toEqual(resource.keys);
      expect(body).toMatchObject({
        ...resource.input(),
        ...resource.createdDefaults,
        [resource.ownerField]: owner.id,
      });
      expect(body.createdAt).toMatch(ISO);
      expect(body.updatedAt).toMatch(ISO);
      expect(await resource.row(t, body.id)).toMatchObject({
        ...resource.createdDefaults,
        [resource.ownerField]: owner.id,
      });
    });
  });

  describe(`GET ${path}/{id}`, () => {
    it(`returns the owner’s ${noun} as created`, async () => {
      const created = await create(suite.t, resource, suite.owner, resource.fullInput);
      const res = await get(suite.owner, `${path}/${created.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(created);
    });
  });

  describe(`DELETE ${path}/{id}`, () => {
    it(`deletes with 204; the ${noun} is gone`, async () => {
      const created = await create(suite.t, resource, suite.owner);
      const res = await suite.t.app.inject({
        method: 'DELETE',
        url: `${path}/${created.id}`,
        headers: suite.owner.headers,
      });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect(await resource.row(suite.t, created.id)).toBeUndefined();
      expectProblem(await get(suite.owner, `${path}/${created.id}`), 404, 'not_found');
    });
  });

  describe(`GET ${path}`, () => {
    it(`lists the caller’s own ${plural}, newest first, 20 by default`, async () => {
      const lister = await loginAs(suite.t, [resource.ownerRole]);
      const created = [];
      for (let i = 0; i < 22; i++) created.push(await create(suite.t, resource, lister));
      const res = await get(lister, path);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.items).toHaveLength(20);
      expect(page.items.map((item: { id: string }) => item.id)).toEqual(
        created
          .map((item) => item.id)
          .reverse()
          .slice(0, 20),
      );
      expect(page.nextCursor).toEqual(expect.any(String));
    });

    it(`walks 25 ${plural} in pages of 10 with no repeat or gap, even as new ones arrive`, async () => {
      const walker = await loginAs(suite.t, [resource.ownerRole]);
      const before: string[] = [];
      for (let i = 0; i < 25; i++) before.push((await create(suite.t, resource, walker)).id);
      const addedMidWalk: string[] = [];

      const { ids, pageSizes } = await walkPages(
        async (cursor) => {
          const res = await get(walker, path, { limit: '10', ...(cursor && { cursor }) });
          expect(res.statusCode, res.body).toBe(200);
          return res.json();
        },
        async () => {
          addedMidWalk.push((await create(suite.t, resource, walker)).id);
        },
      );

      expect(pageSizes).toEqual([10, 10, 5]);
      expect(new Set(ids).size).toBe(ids.length);
      // Newer items land before the cursor, so the walk serves exactly the 25 it started with.
      expect(ids).toEqual([...before].reverse());
      expect(ids.some((id) => addedMidWalk.includes(id))).toBe(false);
      // A fresh walk sees them all, newest first.
      const fresh = await get(walker, path, { limit: '100' });
      expect(fresh.json().items.map((item: { id: string }) => item.id)).toEqual(
        [...before, ...addedMidWalk].reverse(),
      );
    });

    it(`answers an empty page to a ${resource.ownerLabel} without ${plural}`, async () => {
      const newcomer = await loginAs(suite.t, [resource.ownerRole]);
      expect((await get(newcomer, path)).json()).toEqual({ items: [], nextCursor: null });
    });
  });

  describe('deleting the account', () => {
    it(`removes the ${resource.ownerLabel}’s ${plural} with it`, async () => {
      const leaving = await loginAs(suite.t, [resource.ownerRole]);
      const a = await create(suite.t, resource, leaving);
      const b = await create(suite.t, resource, leaving, resource.fullInput);
      const res = await suite.t.app.inject({
        method: 'DELETE',
        url: '/users/me',
        headers: leaving.headers,
        payload: { password: STRONG_PASSWORD },
      });
      expect(res.statusCode, res.body).toBe(204);
      expect(await resource.row(suite.t, a.id)).toBeUndefined();
      expect(await resource.row(suite.t, b.id)).toBeUndefined();
      expect(await resource.rows(suite.t, leaving.id)).toEqual([]);
    });
  });

  return suite;
}
