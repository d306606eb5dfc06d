import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userRoles, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { createUser, login, loginAs, type TestUser } from '../helpers/users.js';
import { createProperty, PROPERTIES, propertyInput } from '../properties/support.js';
import { CATALOG, createService, SERVICES, serviceInput } from '../services/support.js';

/**
 * Conditional requests (kernel/conditional.ts): strong ETags on the single resources, /users/me
 * and catalog pages; If-None-Match → 304 with no body and nothing serialised; If-Match on the
 * writes → 412 precondition_failed when stale, atomically.
 */

let t: TestContext;
let owner: TestUser;
let provider: TestUser;
/** preSerialization runs for every payload Fastify serialises: counted per route. */
const serialised = new Map<string, number>();

const STRONG_TAG = /^"[\x21\x23-\x7e]+"$/;

beforeAll(async () => {
  t = await createTestApp({
    noSmtp: true,
    routes: (app: FastifyInstance) => {
      app.addHook('preSerialization', async (request, _reply, payload) => {
        const url = request.routeOptions.url ?? '';
        serialised.set(url, (serialised.get(url) ?? 0) + 1);
        return payload;
      });
    },
  });
  owner = await loginAs(t, ['homeowner']);
  const user = await createUser(t, ['service_provider'], { fullName: 'Tag Provider' });
  provider = await login(t, user.email, user.password);
});

afterAll(async () => {
  await t?.close();
});

async function get(url: string, caller: TestUser, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'GET', url, headers: { ...caller.headers, ...headers } });
}

async function write(
  method: 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  caller: TestUser,
  payload: object | undefined,
  headers: Record<string, string> = {},
) {
  return t.app.inject({ method, url, headers: { ...caller.headers, ...headers }, payload });
}

function expectNotModified(res: Awaited<ReturnType<typeof get>>, tag: string) {
  expect(res.statusCode, res.body).toBe(304);
  expect(res.body).toBe('');
  expect(res.headers.etag).toBe(tag);
  expect(res.headers['content-type']).toBeUndefined();
  expect(res.headers['content-length']).toBeUndefined();
  // The headers of the 200 come with it: security headers, request id, rate limit.
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-request-id']).toBeTruthy();
  expect(res.headers.vary).toMatch(/authorization/i);
}

/** The route pattern of a URL, as the preSerialization counter keys it. */
const routeOf = (url: string) =>
  new URL(url, 'http://x').pathname.replace(/\/[0-9a-f-]{36}$/, '/:id');

/** Each kind of tagged resource: where to read it, and how to change it through the API. */
const resources = [
  {
    name: 'a property',
    async make() {
      const property = await createProperty(t, owner);
      return {
        url: `${PROPERTIES}/${property.id}`,
        caller: owner,
        change: () => write('PATCH', `${PROPERTIES}/${property.id}`, owner, { name: 'Renamed' }),
      };
    },
  },
  {
    name: 'a service',
    async make() {
      const service = await createService(t, provider);
      return {
        url: `${SERVICES}/${service.id}`,
        caller: provider,
        change: () => write('PATCH', `${SERVICES}/${service.id}`, provider, { title: 'Renamed' }),
      };
    },
  },
  {
    name: '/users/me',
    async make() {
      const me = await loginAs(t, ['homeowner']);
      return {
        url: '/users/me',
        caller: me,
        change: () => write('PATCH', '/users/me', me, { fullName: 'Someone Else' }),
      };
    },
  },
  {
    name: 'a catalog page',
    async make() {
      const service = await createService(t, provider, { postalCodes: ['30301'] });
      return {
        url: `${CATALOG}?postalCode=30301&limit=5`,
        caller: owner,
        change: () =>
          write('PATCH', `${SERVICES}/${service.id}`, provider, { description: 'Now better.' }),
      };
    },
  },
];

describe.each(resources)('GET $name', ({ make }) => {
  it('sends a strong ETag, and 304 with no body and nothing serialised for a matching If-None-Match', async () => {
    const { url, caller } = await make();
    const first = await get(url, caller);
    expect(first.statusCode, first.body).toBe(200);
    const tag = String(first.headers.etag);
    expect(tag).toMatch(STRONG_TAG);
    expect(tag).not.toMatch(/^W\//);
    // The same representation, the same tag.
    expect((await get(url, caller)).headers.etag).toBe(tag);

    const route = routeOf(url);
    const before = serialised.get(route) ?? 0;
    expectNotModified(await get(url, caller, { 'if-none-match': tag }), tag);
    expect(serialised.get(route) ?? 0).toBe(before);
    // The 200 does go through serialisation: the counter counts what it should.
    await get(url, caller);
    expect(serialised.get(route)).toBe(before + 1);
  });

  it('matches If-None-Match as RFC 9110 says: lists, weak comparison, *', async () => {
    const { url, caller } = await make();
    const tag = String((await get(url, caller)).headers.etag);
    expectNotModified(await get(url, caller, { 'if-none-match': `"other", ${tag}` }), tag);
    expectNotModified(await get(url, caller, { 'if-none-match': `W/${tag}` }), tag);
    expectNotModified(await get(url, caller, { 'if-none-match': '*' }), tag);
    for (const stale of ['"other"', tag.slice(1, -1), `${tag.slice(0, -1)}x"`, 'garbage, ,']) {
      const res = await get(url, caller, { 'if-none-match': stale });
      expect(res.statusCode, stale).toBe(200);
      expect(res.headers.etag).toBe(tag);
    }
  });

  it('changes the tag when the resource changes, and a stale tag gets the full answer', async () => {
    const { url, caller, change } = await make();
    const tag = String((await get(url, caller)).headers.etag);
    const changed = await change();
    expect(changed.statusCode, changed.body).toBe(200);
    const res = await get(url, caller, { 'if-none-match': tag });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toMatch(STRONG_TAG);
    expect(res.headers.etag).not.toBe(tag);
  });
});

describe('what else a tag depends on', () => {
  it('/users/me: a role granted or an email verified changes it', async () => {
    const me = await loginAs(t, ['homeowner']);
    const tag = String((await get('/users/me', me)).headers.etag);
    await t.app.db.insert(userRoles).values({ userId: me.id, roleName: 'service_provider' });
    const granted = await get('/users/me', me, { 'if-none-match': tag });
    expect(granted.statusCode).toBe(200);
    expect(granted.json().roles).toContain('service_provider');
    const second = String(granted.headers.etag);
    expect(second).not.toBe(tag);

    // A write of any column moves the version, in the same statement.
    const [row] = await t.app.db.select().from(users).where(eq(users.id, me.id));
    await t.app.db.update(users).set({ phone: '+1 415 555 0100' }).where(eq(users.id, me.id));
    const [after] = await t.app.db.select().from(users).where(eq(users.id, me.id));
    expect(after?.version).toBe((row?.version ?? 0) + 1);
    expect((await get('/users/me', me, { 'if-none-match': second })).statusCode).toBe(200);
  });

  it('a catalog page: a provider renamed, a service joining or leaving the page change it', async () => {
    const user = await createUser(t, ['service_provider'], { fullName: 'Old Name' });
    const other = await login(t, user.email, user.password);
    const service = await createService(t, other, { postalCodes: ['60601'] });
    const url = `${CATALOG}?postalCode=60601`;
    let tag = String((await get(url, owner)).headers.etag);
    const fresh = async () => {
      const res = await get(url, owner, { 'if-none-match': tag });
      expect(res.statusCode).toBe(200);
      expect(res.headers.etag).not.toBe(tag);
      tag = String(res.headers.etag);
      return res.json();
    };

    const renamed = await write('PATCH', '/users/me', other, { fullName: 'New Name' });
    expect(renamed.statusCode).toBe(200);
    expect((await fresh()).items[0].provider.fullName).toBe('New Name');

    await createService(t, other, { postalCodes: ['60601'], title: 'Second' });
    expect((await fresh()).items).toHaveLength(2);

    await write('PATCH', `${SERVICES}/${service.id}`, other, { isActive: false });
    expect((await fresh()).items).toHaveLength(1);

    // Another page of the same query has a tag of its own.
    await createService(t, other, { postalCodes: ['60601'], title: 'Third' });
    const first = await get(`${url}&limit=1`, owner);
    const next = await get(`${url}&limit=1&cursor=${first.json().nextCursor}`, owner);
    expect(next.headers.etag).not.toBe(first.headers.etag);
  });
});

/** The writes that honour If-Match, each with a body that changes the resource. */
const writes = [
  {
    name: 'PATCH a property',
    async make() {
      const { id } = await createProperty(t, owner);
      return { url: `${PROPERTIES}/${id}`, caller: owner, method: 'PATCH' as const };
    },
    body: (n: number) => ({ name: `Edit ${n}` }),
  },
  {
    name: 'PUT a property',
    async make() {
      const { id } = await createProperty(t, owner);
      return { url: `${PROPERTIES}/${id}`, caller: owner, method: 'PUT' as const };
    },
    body: (n: number) => propertyInput({ name: `Edit ${n}` }),
  },
  {
    name: 'PATCH a service',
    async make() {
      const { id } = await createService(t, provider);
      return { url: `${SERVICES}/${id}`, caller: provider, method: 'PATCH' as const };
    },
    body: (n: number) => ({ title: `Edit ${n}` }),
  },
  {
    name: 'PUT a service',
    async make() {
      const { id } = await createService(t, provider);
      return { url: `${SERVICES}/${id}`, caller: provider, method: 'PUT' as const };
    },
    body: (n: number) => serviceInput({ title: `Edit ${n}` }),
  },
  {
    name: 'PATCH /users/me',
    async make() {
      return {
        url: '/users/me',
        caller: await loginAs(t, ['homeowner']),
        method: 'PATCH' as const,
      };
    },
    body: (n: number) => ({ fullName: `Edit ${n}` }),
  },
  {
    name: 'PUT /users/me',
    async make() {
      return { url: '/users/me', caller: await loginAs(t, ['homeowner']), method: 'PUT' as const };
    },
    body: (n: number) => ({ fullName: `Edit ${n}`, phone: null }),
  },
];

describe.each(writes)('$name with If-Match', ({ make, body }) => {
  it('applies with the current tag and answers the new one; a stale tag is 412 and changes nothing', async () => {
    const { url, caller, method } = await make();
    const tag = String((await get(url, caller)).headers.etag);
    const ok = await write(method, url, caller, body(1), { 'if-match': tag });
    expect(ok.statusCode, ok.body).toBe(200);
    const newTag = String(ok.headers.etag);
    expect(newTag).toMatch(STRONG_TAG);
    expect(newTag).not.toBe(tag);
    expect((await get(url, caller)).headers.etag).toBe(newTag);

    const stale = await write(method, url, caller, body(2), { 'if-match': tag });
    expectProblem(stale, 412, 'precondition_failed');
    const now = await get(url, caller);
    expect(now.headers.etag).toBe(newTag);
    expect(JSON.stringify(now.json())).toContain('Edit 1');
  });

  it('reads If-Match as RFC 9110 says: lists, strong comparison, *, absent; malformed is 412', async () => {
    const { url, caller, method } = await make();
    let tag = String((await get(url, caller)).headers.etag);
    let n = 10;
    const expectApplied = async (value: string | undefined) => {
      const headers: Record<string, string> = value === undefined ? {} : { 'if-match': value };
      const res = await write(method, url, caller, body(n++), headers);
      expect(res.statusCode, `${value}: ${res.body}`).toBe(200);
      tag = String(res.headers.etag);
    };
    await expectApplied(`"nope", ${tag}`);
    await expectApplied('*');
    await expectApplied(undefined);
    for (const refused of [
      `W/${tag}`,
      tag.slice(1, -1),
      '"nope"',
      `${tag}x`,
      '"1.x", "2.y"',
      'garbage',
      '',
      `"${'9'.repeat(40)}${tag.slice(tag.indexOf('.'))}`,
    ]) {
      expectProblem(
        await write(method, url, caller, body(n++), { 'if-match': refused }),
        412,
        'precondition_failed',
      );
    }
    expect((await get(url, caller)).headers.etag).toBe(tag);
  });

  it('20 concurrent writes with one If-Match: exactly one applies, 19 get 412', async () => {
    const { url, caller, method } = await make();
    const tag = String((await get(url, caller)).headers.etag);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        write(method, url, caller, body(100 + i), { 'if-match': tag }),
      ),
    );
    const statuses = answers.map((res) => res.statusCode).sort();
    expect(statuses).toEqual([200, ...Array(19).fill(412)]);
    const winner = answers.find((res) => res.statusCode === 200);
    const now = await get(url, caller);
    expect(now.headers.etag).toBe(winner?.headers.etag);
    expect(now.body).toBe(winner?.body);
  });
});

describe('DELETE with If-Match', () => {
  for (const kind of ['property', 'service'] as const) {
    it(`a ${kind}: a stale tag is 412 and keeps it; the current one deletes it; then 404`, async () => {
      const created =
        kind === 'property' ? await createProperty(t, owner) : await createService(t, provider);
      const caller = kind === 'property' ? owner : provider;
      const url = `${kind === 'property' ? PROPERTIES : SERVICES}/${created.id}`;
      const tag = String((await get(url, caller)).headers.etag);
      const patched = await write(
        'PATCH',
        url,
        caller,
        kind === 'property' ? { name: 'x' } : { title: 'x' },
      );
      const current = String(patched.headers.etag);

      expectProblem(
        await write('DELETE', url, caller, undefined, { 'if-match': tag }),
        412,
        'precondition_failed',
      );
      expect((await get(url, caller)).statusCode).toBe(200);
      expect(
        (await write('DELETE', url, caller, undefined, { 'if-match': current })).statusCode,
      ).toBe(204);
      // Gone: 404, If-Match or not (a missing resource is not a failed precondition).
      expectProblem(
        await write('DELETE', url, caller, undefined, { 'if-match': current }),
        404,
        'not_found',
      );
      expectProblem(
        await write('PATCH', url, caller, kind === 'property' ? { name: 'y' } : { title: 'y' }, {
          'if-match': '*',
        }),
        404,
        'not_found',
      );
    });
  }

  it('someone else’s property is 404 whatever the If-Match, never 412', async () => {
    const { id } = await createProperty(t, owner);
    const url = `${PROPERTIES}/${id}`;
    const tag = String((await get(url, owner)).headers.etag);
    const intruder = await loginAs(t, ['homeowner']);
    for (const value of [tag, '"stale"', '*']) {
      expectProblem(
        await write('PATCH', url, intruder, { name: 'x' }, { 'if-match': value }),
        404,
        'not_found',
      );
      expectProblem(
        await write('DELETE', url, intruder, undefined, { 'if-match': value }),
        404,
        'not_found',
      );
      expect((await get(url, intruder, { 'if-none-match': value })).statusCode).toBe(404);
    }
  });
});

describe('hostile conditional headers', () => {
  const hostile = [
    '"a"'.repeat(5000),
    Array.from({ length: 3000 }, (_, i) => `"${i}"`).join(', '),
    `"${'x'.repeat(7000)}"`,
    'W/'.repeat(3000),
    ','.repeat(6000),
    '"\u0001"',
    '"\u00ff\u00fe"',
    '"unterminated',
    '""',
    '*, "a"',
  ];
  it('never give a 5xx, and a write is never unconditional on a value it cannot read', async () => {
    const { id } = await createProperty(t, owner);
    const url = `${PROPERTIES}/${id}`;
    for (const value of hostile) {
      const read = await get(url, owner, { 'if-none-match': value });
      expect(read.statusCode, value.slice(0, 40)).toBe(200);
      const res = await write('PATCH', url, owner, { name: 'Hostile' }, { 'if-match': value });
      expect(res.statusCode, value.slice(0, 40)).toBe(412);
    }
  });
});
