import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { properties } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, loginAs, type TestUser } from '../helpers/users.js';
import {
  createProperty,
  PROPERTIES,
  PROPERTY_KEYS,
  propertyInput,
  propertyRow,
  SECRET_KEYS,
} from './support.js';

let t: TestContext;
let owner: TestUser;
/** Everyone who is not the owner, by how they relate to the owner's property. */
let actors: Record<string, TestUser>;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  owner = await loginAs(t, ['homeowner']);
  actors = {
    'another homeowner': await loginAs(t, ['homeowner']),
    'an admin acting as a plain user': await loginAs(t, ['admin']),
    'a homeowner who is also a provider': await loginAs(t, ['homeowner', 'service_provider']),
    'a service provider': await loginAs(t, ['service_provider']),
    'a user without any role': await loginAs(t, []),
  };
});
afterAll(() => t?.close());

type Method = 'GET' | 'PUT' | 'PATCH' | 'DELETE';
const ID_ROUTES: Method[] = ['GET', 'PUT', 'PATCH', 'DELETE'];
const BODIES: Record<Method, unknown> = {
  GET: undefined,
  PUT: propertyInput({ name: 'Taken over' }),
  PATCH: { name: 'Taken over' },
  DELETE: undefined,
};

const call = (method: Method, id: string, headers: Record<string, string>) =>
  t.app.inject({
    method,
    url: `${PROPERTIES}/${id}`,
    headers,
    ...(BODIES[method] ? { payload: BODIES[method] as object } : {}),
  });

describe('API1 BOLA: another user’s property is not found, and stays as it was', () => {
  const CASES: Array<[string, number]> = [
    ['another homeowner', 404],
    ['an admin acting as a plain user', 404],
    ['a homeowner who is also a provider', 404],
    ['a service provider', 403],
    ['a user without any role', 403],
  ];

  it.each(ID_ROUTES.flatMap((method) => CASES.map(([actor, status]) => [method, actor, status])))(
    '%s by %s: %i',
    async (method, actor, status) => {
      const property = await createProperty(t, owner, { notes: 'original' });
      const before = await propertyRow(t, property.id);
      const res = await call(method as Method, property.id, actors[actor as string]!.headers);
      expect(res.statusCode, res.body).toBe(status);
      if (status === 404) {
        // Indistinguishable from an id that exists nowhere.
        const missing = await call(
          method as Method,
          '018f0000-0000-7000-8000-000000000000',
          actors[actor as string]!.headers,
        );
        expect(res.json().detail).toBe(missing.json().detail);
      }
      expect(await propertyRow(t, property.id)).toEqual(before);
    },
  );

  it('the owner can still do all of it', async () => {
    const property = await createProperty(t, owner);
    for (const method of ID_ROUTES) {
      const res = await call(method, property.id, owner.headers);
      expect(res.statusCode, `${method} ${res.body}`).toBe(method === 'DELETE' ? 204 : 200);
    }
  });

  it('a list shows only the caller’s own properties', async () => {
    const mine = await createProperty(t, owner);
    const other = actors['another homeowner']!;
    const theirs = await createProperty(t, other);
    const res = await t.app.inject({
      method: 'GET',
      url: PROPERTIES,
      headers: other.headers,
      query: { limit: '100' },
    });
    const ids = res.json().items.map((item: { id: string; ownerId: string }) => item.id);
    expect(ids).toContain(theirs.id);
    expect(ids).not.toContain(mine.id);
    for (const item of res.json().items) expect(item.ownerId).toBe(other.id);
  });

  it('a cursor taken from someone else’s list still pages only the caller’s own', async () => {
    for (let i = 0; i < 3; i++) await createProperty(t, owner);
    const ownerPage = await t.app.inject({
      method: 'GET',
      url: PROPERTIES,
      headers: owner.headers,
      query: { limit: '1' },
    });
    const cursor = ownerPage.json().nextCursor;
    const other = actors['another homeowner']!;
    const res = await t.app.inject({
      method: 'GET',
      url: PROPERTIES,
      headers: other.headers,
      query: { cursor, limit: '100' },
    });
    expect(res.statusCode).toBe(200);
    for (const item of res.json().items) expect(item.ownerId).toBe(other.id);
  });
});

describe('API5 BFLA: who may call the property routes at all', () => {
  const ROUTES: Array<[string, string, unknown]> = [
    ['GET', PROPERTIES, undefined],
    ['POST', PROPERTIES, propertyInput()],
    ['GET', `${PROPERTIES}/018f0000-0000-7000-8000-000000000000`, undefined],
    ['PUT', `${PROPERTIES}/018f0000-0000-7000-8000-000000000000`, propertyInput()],
    ['PATCH', `${PROPERTIES}/018f0000-0000-7000-8000-000000000000`, { name: 'x' }],
    ['DELETE', `${PROPERTIES}/018f0000-0000-7000-8000-000000000000`, undefined],
  ];
  const inject = (method: string, url: string, payload: unknown, headers = {}) =>
    t.app.inject({
      method: method as Method,
      url,
      headers,
      ...(payload ? { payload: payload as object } : {}),
    });

  it.each(ROUTES)('anonymous %s %s: 401 with WWW-Authenticate', async (method, url, payload) => {
    const res = await inject(method, url, payload);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json().code).toBe('unauthorized');
  });

  it.each(ROUTES)('a garbage token on %s %s: 401', async (method, url, payload) => {
    const res = await inject(method, url, payload, { authorization: 'Bearer not.a.token' });
    expect(res.statusCode).toBe(401);
  });

  it.each(ROUTES)('a service provider on %s %s: 403', async (method, url, payload) => {
    const res = await inject(method, url, payload, actors['a service provider']!.headers);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
  });

  it.each(ROUTES)('a user without roles on %s %s: 403', async (method, url, payload) => {
    const res = await inject(method, url, payload, actors['a user without any role']!.headers);
    expect(res.statusCode).toBe(403);
  });

  it('a provider’s POST stores nothing', async () => {
    const provider = actors['a service provider']!;
    await inject('POST', PROPERTIES, propertyInput(), provider.headers);
    const rows = await t.app.db
      .select()
      .from(properties)
      .where(eq(properties.ownerId, provider.id));
    expect(rows).toEqual([]);
  });

  it('losing the homeowner role takes effect on the very next request', async () => {
    const user = await createUser(t, ['homeowner']);
    const signedIn = await login(t, user.email, user.password);
    const ok = await inject('GET', PROPERTIES, undefined, signedIn.headers);
    expect(ok.statusCode).toBe(200);
    const admin = actors['an admin acting as a plain user']!;
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/admin/users/${user.id}/roles/homeowner`,
      headers: admin.headers,
    });
    expect(revoke.statusCode).toBe(204);
    const refused = await inject('GET', PROPERTIES, undefined, signedIn.headers);
    expect(refused.statusCode).toBe(403);
  });
});

describe('API3 mass assignment and data exposure', () => {
  const victim = '018f0000-0000-7000-8000-000000000000';

  it.each([
    ['ownerId', () => actors['another homeowner']!.id],
    ['id', () => victim],
    ['createdAt', () => '2000-01-01T00:00:00.000Z'],
    ['updatedAt', () => '2000-01-01T00:00:00.000Z'],
  ])('%s in a POST body: 400, no property created', async (field, value) => {
    const other = actors['another homeowner']!;
    const before = await t.app.inject({ method: 'GET', url: PROPERTIES, headers: other.headers });
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: propertyInput({ [field]: value() }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual({
      path: `/body/${field}`,
      message: 'is not an allowed field',
    });
    const after = await t.app.inject({ method: 'GET', url: PROPERTIES, headers: other.headers });
    expect(after.json()).toEqual(before.json());
  });

  it.each([
    ['PUT', propertyInput({ ownerId: victim })],
    ['PATCH', { ownerId: victim }],
    ['PATCH', { name: 'x', id: victim }],
    ['PATCH', { createdAt: '2000-01-01T00:00:00.000Z' }],
  ])('%s with a server-owned field: 400, row unchanged', async (method, payload) => {
    const property = await createProperty(t, owner);
    const before = await propertyRow(t, property.id);
    const res = await t.app.inject({
      method: method as Method,
      url: `${PROPERTIES}/${property.id}`,
      headers: owner.headers,
      payload: payload as object,
    });
    expect(res.statusCode).toBe(400);
    expect(await propertyRow(t, property.id)).toEqual(before);
  });

  it('responses carry exactly the Property fields, no secret anywhere', async () => {
    const property = await createProperty(t, owner);
    const bodies = [
      (await call('GET', property.id, owner.headers)).body,
      (await call('PATCH', property.id, owner.headers)).body,
      (await t.app.inject({ method: 'GET', url: PROPERTIES, headers: owner.headers })).body,
    ];
    expect(Object.keys(JSON.parse(bodies[0]!)).sort()).toEqual(PROPERTY_KEYS);
    for (const item of JSON.parse(bodies[2]!).items)
      expect(Object.keys(item).sort()).toEqual(PROPERTY_KEYS);
    for (const body of bodies) expect(body).not.toMatch(SECRET_KEYS);
  });
});
