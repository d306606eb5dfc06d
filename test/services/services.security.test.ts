import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { SECRET_KEYS } from '../properties/support.js';
import {
  createService,
  NOWHERE,
  SERVICE_KEYS,
  SERVICES,
  serviceInput,
  serviceRow,
} from './support.js';

let t: TestContext;
let owner: TestUser;
let actors: Record<string, TestUser>;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  owner = await loginAs(t, ['service_provider']);
  actors = {
    'another provider': await loginAs(t, ['service_provider']),
    'an admin acting as a plain user': await loginAs(t, ['admin']),
    'a provider who is also a homeowner': await loginAs(t, ['service_provider', 'homeowner']),
    'a homeowner': await loginAs(t, ['homeowner']),
    'a user without any role': await loginAs(t, []),
  };
});
afterAll(() => t?.close());

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ID_ROUTES: Method[] = ['GET', 'PUT', 'PATCH', 'DELETE'];
const BODIES: Partial<Record<Method, object>> = {
  PUT: serviceInput({ title: 'Taken over', priceCents: 1 }),
  PATCH: { priceCents: 1, isActive: false },
};

const call = (method: Method, id: string, headers: Record<string, string>) =>
  t.app.inject({
    method,
    url: `${SERVICES}/${id}`,
    headers,
    ...(BODIES[method] ? { payload: BODIES[method] } : {}),
  });

describe('API1 BOLA: another provider’s service is not found, and stays as it was', () => {
  const CASES: Array<[string, number]> = [
    ['another provider', 404],
    ['an admin acting as a plain user', 404],
    ['a provider who is also a homeowner', 404],
    ['a homeowner', 403],
    ['a user without any role', 403],
  ];

  it.each(ID_ROUTES.flatMap((method) => CASES.map(([actor, status]) => [method, actor, status])))(
    '%s by %s: %i',
    async (method, actor, status) => {
      const service = await createService(t, owner);
      const before = await serviceRow(t, service.id);
      const headers = actors[actor as string]!.headers;
      const res = await call(method as Method, service.id, headers);
      expect(res.statusCode, res.body).toBe(status);
      if (status === 404) {
        const missing = await call(method as Method, NOWHERE, headers);
        expect(res.json().detail).toBe(missing.json().detail);
      }
      expect(await serviceRow(t, service.id)).toEqual(before);
    },
  );

  it('the owner can still do all of it', async () => {
    const service = await createService(t, owner);
    for (const method of ID_ROUTES) {
      const res = await call(method, service.id, owner.headers);
      expect(res.statusCode, `${method} ${res.body}`).toBe(method === 'DELETE' ? 204 : 200);
    }
  });

  it('a list shows only the caller’s own services', async () => {
    const mine = await createService(t, owner);
    const other = actors['another provider']!;
    const theirs = await createService(t, other);
    const res = await t.app.inject({
      method: 'GET',
      url: SERVICES,
      headers: other.headers,
      query: { limit: '100' },
    });
    const ids = res.json().items.map((item: { id: string }) => item.id);
    expect(ids).toContain(theirs.id);
    expect(ids).not.toContain(mine.id);
    for (const item of res.json().items) expect(item.providerId).toBe(other.id);
  });
});

describe('API5 BFLA: who may call the provider routes at all', () => {
  const ROUTES: Array<[Method, string, object | undefined]> = [
    ['GET', SERVICES, undefined],
    ['POST', SERVICES, serviceInput()],
    ['GET', `${SERVICES}/${NOWHERE}`, undefined],
    ['PUT', `${SERVICES}/${NOWHERE}`, serviceInput()],
    ['PATCH', `${SERVICES}/${NOWHERE}`, { title: 'x' }],
    ['DELETE', `${SERVICES}/${NOWHERE}`, undefined],
  ];
  const inject = (method: Method, url: string, payload?: object, headers = {}) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  it.each(ROUTES)('anonymous %s %s: 401 with WWW-Authenticate', async (method, url, payload) => {
    const res = await inject(method, url, payload);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it.each(ROUTES)('a homeowner on %s %s: 403', async (method, url, payload) => {
    const res = await inject(method, url, payload, actors['a homeowner']!.headers);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
  });

  it.each(ROUTES)('a user without roles on %s %s: 403', async (method, url, payload) => {
    const res = await inject(method, url, payload, actors['a user without any role']!.headers);
    expect(res.statusCode).toBe(403);
  });

  it('a homeowner’s POST stores nothing', async () => {
    const homeowner = actors['a homeowner']!;
    await inject('POST', SERVICES, serviceInput(), homeowner.headers);
    expect(
      await t.app.db.select().from(services).where(eq(services.providerId, homeowner.id)),
    ).toEqual([]);
  });
});

describe('API3 mass assignment and data exposure', () => {
  it.each([
    ['providerId', () => actors['another provider']!.id],
    ['id', () => NOWHERE],
    ['createdAt', () => '2000-01-01T00:00:00.000Z'],
    ['search', () => "'free':1"],
  ])('%s in a POST body: 400, nothing stored for anyone', async (field, value) => {
    const before = await t.app.db.select().from(services);
    const res = await t.app.inject({
      method: 'POST',
      url: SERVICES,
      headers: owner.headers,
      payload: serviceInput({ [field]: value() }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual({
      path: `/body/${field}`,
      message: 'is not an allowed field',
    });
    expect(await t.app.db.select().from(services)).toEqual(before);
  });

  it.each([
    ['PUT', serviceInput({ providerId: NOWHERE })],
    ['PATCH', { providerId: NOWHERE }],
    ['PATCH', { title: 'x', id: NOWHERE }],
    ['PATCH', { updatedAt: '2000-01-01T00:00:00.000Z' }],
  ])('%s with a server-owned field: 400, row unchanged', async (method, payload) => {
    const service = await createService(t, owner);
    const before = await serviceRow(t, service.id);
    const res = await t.app.inject({
      method: method as Method,
      url: `${SERVICES}/${service.id}`,
      headers: owner.headers,
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(await serviceRow(t, service.id)).toEqual(before);
  });

  it('responses carry exactly the Service fields: no search document, no secret', async () => {
    const service = await createService(t, owner);
    const bodies = [
      (await call('GET', service.id, owner.headers)).body,
      (await call('PATCH', service.id, owner.headers)).body,
      (await t.app.inject({ method: 'GET', url: SERVICES, headers: owner.headers })).body,
    ];
    expect(Object.keys(JSON.parse(bodies[0]!)).sort()).toEqual(SERVICE_KEYS);
    for (const item of JSON.parse(bodies[2]!).items)
      expect(Object.keys(item).sort()).toEqual(SERVICE_KEYS);
    for (const body of bodies) expect(body).not.toMatch(SECRET_KEYS);
  });
});
