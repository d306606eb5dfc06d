import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, loginAs, type TestUser } from '../helpers/users.js';
import { CATALOG, createService } from './support.js';

let t: TestContext;
let viewer: TestUser;
let provider: TestUser & { phone: string };
let published: { id: string };
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  viewer = await loginAs(t, ['homeowner']);
  const user = await createUser(t, ['service_provider'], { fullName: 'Pat Plumber' });
  provider = { ...(await login(t, user.email, user.password)), phone: '+1 415 555 0100' };
  await t.app.inject({
    method: 'PATCH',
    url: '/users/me',
    headers: provider.headers,
    payload: { phone: provider.phone },
  });
  published = await createService(t, provider, {
    title: 'Leak repair',
    description: "Pipes, taps and the odd 100% guaranteed o'clock fix.",
  });
});
afterAll(() => t?.close());

const browse = (query: Record<string, string>, headers = viewer.headers) =>
  t.app.inject({ method: 'GET', url: CATALOG, headers, query });
const tableSizes = async () => ({
  services: (await t.app.db.select({ n: count() }).from(services))[0]?.n,
  users: (await t.app.db.select({ n: count() }).from(users))[0]?.n,
});

describe('who may browse', () => {
  it('anonymous: 401 with WWW-Authenticate', async () => {
    const res = await t.app.inject({ method: 'GET', url: CATALOG });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('a user without any role (so without catalog:read): 403', async () => {
    const nobody = await loginAs(t, []);
    const res = await browse({}, nobody.headers);
    expect(res.statusCode).toBe(403);
  });
});

describe('hostile text in q is only ever text', () => {
  const HOSTILE = [
    "'; drop table services; --",
    "' or '1'='1",
    '1) or (1=1',
    "leak' union select password_hash from users --",
    '%',
    '_',
    '%%%___',
    '\\',
    '\\\\x00',
    'a & | ! :*',
    'leak & !repair',
    'leak:*',
    '!leak',
    'leak <-> repair',
    '(leak | repair)',
    '"leak repair"',
    '-leak',
    'leak or repair',
    '$1',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder text is the point
    '${q}',
    "'",
    '"',
    ';',
    '--',
    '/* comment */',
    '*',
    'ñandú 水管工 🚰 Straße',
    '\u202e gnikael',
    'e\u0301te\u0301',
    '<script>alert(1)</script>',
    'a'.repeat(200),
    'x '.repeat(100).trim(),
  ];

  it.each(HOSTILE)('q=%j: 200, tables intact', async (q) => {
    const before = await tableSizes();
    const res = await browse({ q });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Array.isArray(body.items)).toBe(true);
    expect(res.body).not.toMatch(/password|hash|syntax|error/i);
    expect(await tableSizes()).toEqual(before);
  });

  it('wildcards are not wildcards: "%" and "_" match nothing', async () => {
    expect((await browse({ q: '%' })).json().items).toEqual([]);
    expect((await browse({ q: '_' })).json().items).toEqual([]);
  });

  it('operators are read as words: "leak & !repair" still finds the leak repair', async () => {
    const items = (await browse({ q: 'leak & !repair' })).json().items;
    expect(items.map((item: { id: string }) => item.id)).toEqual([published.id]);
  });

  it('a prefix operator is not honoured: "lea:*" finds nothing', async () => {
    expect((await browse({ q: 'lea:*' })).json().items).toEqual([]);
  });

  it('quotes and percent signs in the text are found as the words they are', async () => {
    const items = (await browse({ q: "100% o'clock" })).json().items;
    expect(items.map((item: { id: string }) => item.id)).toEqual([published.id]);
  });

  it('a very long q is 400, not a slow query or a 500', async () => {
    for (const q of ['a'.repeat(201), 'leak '.repeat(2000), '%'.repeat(5000)]) {
      const res = await browse({ q });
      expect(res.statusCode).toBe(400);
    }
  });
});

describe('hostile text in the other filters is refused', () => {
  it.each([
    ['postalCode', "'; drop table services; --"],
    ['postalCode', "94107' or '1'='1"],
    ['postalCode', '9410%'],
    ['postalCode', '9410_'],
    ['postalCode', '94107\\'],
    ['postalCode', '{94107}'],
    ['postalCode', '94107,10115'],
    ['category', "plumbing' or '1'='1"],
    ['category', 'plumbing; drop table services'],
    ['limit', '10; drop table services'],
    ['cursor', "' or 1=1 --"],
  ])('%s=%j: 400, tables intact', async (field, value) => {
    const before = await tableSizes();
    const res = await browse({ [field]: value });
    expect(res.statusCode, res.body).toBe(400);
    expect(await tableSizes()).toEqual(before);
  });
});

describe('data exposure', () => {
  it('shows the provider’s id and name, never the email, phone or anything else', async () => {
    const res = await browse({});
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((entry: { id: string }) => entry.id === published.id);
    expect(item.provider).toEqual({ id: provider.id, fullName: 'Pat Plumber' });
    expect(res.body).not.toContain(provider.email);
    expect(res.body).not.toContain(provider.phone);
    expect(res.body).not.toMatch(/"(email|phone|passwordHash|search|isActive":false)/);
  });

  it('never lists another provider’s inactive service', async () => {
    const hidden = await createService(t, provider, { isActive: false, postalCodes: ['60601'] });
    const res = await browse({ postalCode: '60601' });
    expect(res.json().items.map((item: { id: string }) => item.id)).not.toContain(hidden.id);
  });
});
