import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { walkPages } from '../helpers/pagination.js';
import { createUser, login, loginAs, STRONG_PASSWORD, type TestUser } from '../helpers/users.js';
import { CATALOG, createService, SERVICE_KEYS, SERVICES } from './support.js';

let t: TestContext;
let viewer: TestUser;
let admin: TestUser;
let plumber: TestUser;
let electrician: TestUser;
/** The catalog's services by name, as created. */
const s: Record<string, { id: string }> = {};

async function providerNamed(fullName: string) {
  const user = await createUser(t, ['service_provider'], { fullName });
  return login(t, user.email, user.password);
}

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  viewer = await loginAs(t, ['homeowner']);
  admin = await loginAs(t, ['admin']);
  plumber = await providerNamed('Pat Plumber');
  electrician = await providerNamed('Eli Electric');
  const gone = await providerNamed('Gone Provider');

  s.leak = await createService(t, plumber, {
    title: 'Leak repair',
    description: 'Burst pipes and dripping taps.',
    postalCodes: ['94107', '94110'],
  });
  s.drain = await createService(t, plumber, {
    title: 'Drain cleaning',
    description: 'Blocked drains cleared.',
    pricingModel: 'hourly',
    postalCodes: ['10115'],
  });
  s.heater = await createService(t, plumber, {
    title: 'Water heater install',
    description: 'Tank or tankless.',
    postalCodes: ['94107'],
    isActive: false,
  });
  s.rewire = await createService(t, electrician, {
    title: 'Rewiring',
    description: 'Old houses rewired; no current leak left behind.',
    category: 'electrical',
    pricingModel: 'quote',
    priceCents: null,
    postalCodes: ['94107'],
  });
  s.clean = await createService(t, electrician, {
    title: 'Deep clean',
    description: 'Every room, top to bottom.',
    category: 'cleaning',
    postalCodes: ['SW1A 1AA'],
  });
  s.disabled = await createService(t, gone, {
    title: 'Leak repair pro',
    description: 'Pipes.',
    postalCodes: ['94107'],
  });
  const disable = await t.app.inject({
    method: 'PATCH',
    url: `/admin/users/${gone.id}`,
    headers: admin.headers,
    payload: { isActive: false },
  });
  expect(disable.statusCode, disable.body).toBe(200);
});
afterAll(() => t?.close());

async function browse(query: Record<string, string> = {}, who = viewer) {
  const res = await t.app.inject({ method: 'GET', url: CATALOG, headers: who.headers, query });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    items: Array<{ id: string; provider: { id: string; fullName: string } }>;
    nextCursor: string | null;
  };
}
const ids = async (query: Record<string, string> = {}) =>
  (await browse(query)).items.map((item) => item.id);

describe('GET /services', () => {
  it('lists active services of active providers, newest first, with the provider’s name', async () => {
    const page = await browse();
    expect(page.items.map((item) => item.id)).toEqual([
      s.clean!.id,
      s.rewire!.id,
      s.drain!.id,
      s.leak!.id,
    ]);
    expect(page.nextCursor).toBeNull();
    const leak = page.items.find((item) => item.id === s.leak!.id)!;
    expect(Object.keys(leak).sort()).toEqual([...SERVICE_KEYS, 'provider', 'rating'].sort());
    expect((leak as unknown as { rating: unknown }).rating).toEqual({ count: 0, average: null });
    expect(leak).toMatchObject({
      title: 'Leak repair',
      providerId: plumber.id,
      isActive: true,
      provider: { id: plumber.id, fullName: 'Pat Plumber' },
    });
    expect(Object.keys(leak.provider).sort()).toEqual(['fullName', 'id']);
  });

  it('is open to everyone holding catalog:read: homeowners, providers, admins', async () => {
    for (const who of [viewer, plumber, admin]) {
      const res = await t.app.inject({ method: 'GET', url: CATALOG, headers: who.headers });
      expect(res.statusCode).toBe(200);
    }
  });
});

describe('filters, alone', () => {
  it.each([
    ['plumbing', ['drain', 'leak']],
    ['electrical', ['rewire']],
    ['cleaning', ['clean']],
    ['roofing', []],
  ])('category=%s', async (category, expected) => {
    expect(await ids({ category })).toEqual(expected.map((name) => s[name]!.id));
  });

  it.each([
    ['94107', ['rewire', 'leak']],
    ['94110', ['leak']],
    ['SW1A 1AA', ['clean']],
    [' sw1a  1aa ', ['clean']],
    ['00000', []],
  ])('postalCode=%j (covered by the service)', async (postalCode, expected) => {
    expect(await ids({ postalCode })).toEqual(expected.map((name) => s[name]!.id));
  });

  it.each([
    ['leak', ['rewire', 'leak']],
    ['LEAK', ['rewire', 'leak']],
    ['leak repair', ['leak']],
    ['  pipes  ', ['leak']],
    ['dripping taps', ['leak']],
    ['room', ['clean']],
    ['tankless', []],
    ['plumbing', []],
  ])('q=%j: every word in the title or description', async (q, expected) => {
    expect(await ids({ q })).toEqual(expected.map((name) => s[name]!.id));
  });
});

describe('filters, combined', () => {
  it.each([
    [{ category: 'plumbing', postalCode: '94107' }, ['leak']],
    [{ category: 'electrical', postalCode: '94107' }, ['rewire']],
    [{ category: 'plumbing', postalCode: 'SW1A 1AA' }, []],
    [{ category: 'electrical', q: 'leak' }, ['rewire']],
    [{ postalCode: '94107', q: 'leak' }, ['rewire', 'leak']],
    [{ category: 'plumbing', postalCode: '94110', q: 'pipes' }, ['leak']],
    [{ category: 'plumbing', postalCode: '10115', q: 'leak' }, []],
    [{ category: 'plumbing', postalCode: '10115', q: 'drains', limit: '1' }, ['drain']],
  ])('%j', async (query, expected) => {
    expect(await ids(query)).toEqual(expected.map((name) => s[name]!.id));
  });
});

describe('what leaves the catalog at once', () => {
  it('a service its provider deactivates, until reactivated', async () => {
    const toggle = (isActive: boolean) =>
      t.app.inject({
        method: 'PATCH',
        url: `${SERVICES}/${s.drain!.id}`,
        headers: plumber.headers,
        payload: { isActive },
      });
    expect((await toggle(false)).statusCode).toBe(200);
    expect(await ids()).not.toContain(s.drain!.id);
    expect((await toggle(true)).statusCode).toBe(200);
    expect(await ids()).toContain(s.drain!.id);
  });

  it('every service of a provider an admin disables, until enabled again', async () => {
    const setActive = (isActive: boolean) =>
      t.app.inject({
        method: 'PATCH',
        url: `/admin/users/${electrician.id}`,
        headers: admin.headers,
        payload: { isActive },
      });
    expect((await setActive(false)).statusCode).toBe(200);
    const listed = await ids();
    expect(listed).not.toContain(s.rewire!.id);
    expect(listed).not.toContain(s.clean!.id);
    expect(await ids({ category: 'electrical' })).toEqual([]);
    expect((await setActive(true)).statusCode).toBe(200);
    expect(await ids({ category: 'electrical' })).toEqual([s.rewire!.id]);
  });

  it('every service of a provider who deletes the account', async () => {
    const leaving = await providerNamed('Short Stay');
    const service = await createService(t, leaving, { postalCodes: ['77777'] });
    expect(await ids({ postalCode: '77777' })).toEqual([service.id]);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: leaving.headers,
      payload: { password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(204);
    expect(await ids({ postalCode: '77777' })).toEqual([]);
  });
});

describe('the postalCode filter follows every change to a service at once', () => {
  const patch = (id: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PATCH', url: `${SERVICES}/${id}`, headers: plumber.headers, payload });

  it('new postal codes, a new category, deactivation, deletion', async () => {
    const { id } = await createService(t, plumber, { postalCodes: ['60601', '60602'] });
    expect(await ids({ postalCode: '60601', category: 'plumbing' })).toEqual([id]);

    expect((await patch(id, { postalCodes: ['60602', '60603'] })).statusCode).toBe(200);
    expect(await ids({ postalCode: '60601' })).toEqual([]);
    expect(await ids({ postalCode: '60603' })).toEqual([id]);

    expect((await patch(id, { category: 'hvac' })).statusCode).toBe(200);
    expect(await ids({ postalCode: '60602', category: 'plumbing' })).toEqual([]);
    expect(await ids({ postalCode: '60602', category: 'hvac' })).toEqual([id]);

    expect((await patch(id, { isActive: false })).statusCode).toBe(200);
    expect(await ids({ postalCode: '60602' })).toEqual([]);
    expect((await patch(id, { isActive: true })).statusCode).toBe(200);
    expect(await ids({ postalCode: '60602', category: 'hvac' })).toEqual([id]);

    const replaced = await t.app.inject({
      method: 'PUT',
      url: `${SERVICES}/${id}`,
      headers: plumber.headers,
      payload: {
        title: 'Heating',
        description: 'Boilers.',
        category: 'hvac',
        pricingModel: 'quote',
        currency: 'USD',
        postalCodes: ['60604'],
      },
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(await ids({ postalCode: '60602' })).toEqual([]);
    expect(await ids({ postalCode: '60604', category: 'hvac' })).toEqual([id]);

    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `${SERVICES}/${id}`,
      headers: plumber.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect(await ids({ postalCode: '60604' })).toEqual([]);
  });
});

describe('keyset pages', () => {
  it('walks 25 services in pages of 10 with no repeat or gap, even as new ones arrive', async () => {
    const before: string[] = [];
    for (let i = 0; i < 25; i++) {
      before.push((await createService(t, plumber, { postalCodes: ['30301'] })).id);
    }
    const addedMidWalk: string[] = [];
    const { ids: walked, pageSizes } = await walkPages(
      async (cursor) => browse({ postalCode: '30301', limit: '10', ...(cursor && { cursor }) }),
      async () => {
        addedMidWalk.push((await createService(t, plumber, { postalCodes: ['30301'] })).id);
      },
    );
    expect(pageSizes).toEqual([10, 10, 5]);
    expect(walked).toEqual([...before].reverse());
    expect(walked.some((id) => addedMidWalk.includes(id))).toBe(false);
  });

  it('walks category + postalCode in pages of 2 exactly as one big page orders it', async () => {
    for (let i = 0; i < 5; i++) await createService(t, plumber, { postalCodes: ['80202'] });
    const another = await providerNamed('Ada Amps');
    await createService(t, another, { category: 'electrical', postalCodes: ['80202'] });
    const filter = { category: 'plumbing', postalCode: '80202' };
    const all = await ids({ ...filter, limit: '100' });
    expect(all).toHaveLength(5);
    const { ids: walked, pageSizes } = await walkPages(async (cursor) =>
      browse({ ...filter, limit: '2', ...(cursor && { cursor }) }),
    );
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(walked).toEqual(all);
  });

  it('walks the unfiltered catalog in pages of 3 exactly as one big page orders it', async () => {
    const all = await ids({ limit: '100' });
    const { ids: walked } = await walkPages(async (cursor) =>
      browse({ limit: '3', ...(cursor && { cursor }) }),
    );
    expect(walked).toEqual(all);
    expect(new Set(walked).size).toBe(walked.length);
  });
});
