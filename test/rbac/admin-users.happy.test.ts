import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, loginAs, type TestUser } from '../helpers/users.js';
import { adminApi, auditRows, SEEDED_PERMISSIONS, send } from './support.js';

/** GET/PATCH /admin/users: an admin reads every account and enables or disables it. */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

const USER_KEYS = [
  'createdAt',
  'email',
  'emailVerified',
  'fullName',
  'id',
  'isActive',
  'permissions',
  'phone',
  'roles',
  'updatedAt',
];

const list = (query: string) =>
  send(t, { method: 'GET', url: `/admin/users?${query}`, headers: admin.headers });

const idsOf = (page: { items: Array<{ id: string }> }) => page.items.map((item) => item.id);

/** A prefix no other test's emails start with. */
const freshPrefix = (word: string) => `${word}-${randomBytes(4).toString('hex')}`;

describe('GET /admin/users', () => {
  it('lists accounts newest first as User resources, with roles and permissions', async () => {
    const prefix = freshPrefix('list');
    const older = await createUser(t, ['homeowner'], { email: `${prefix}-a@example.com` });
    const newer = await createUser(t, ['homeowner', 'service_provider'], {
      email: `${prefix}-b@example.com`,
      fullName: 'Newer User',
    });
    const res = await list(`email=${prefix}`);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.nextCursor).toBeNull();
    expect(idsOf(page)).toEqual([newer.id, older.id]);
    expect(Object.keys(page.items[0]).sort()).toEqual(USER_KEYS);
    expect(page.items[0]).toMatchObject({
      email: newer.email,
      fullName: 'Newer User',
      phone: null,
      roles: ['homeowner', 'service_provider'],
      permissions: [
        ...new Set([...SEEDED_PERMISSIONS.homeowner, ...SEEDED_PERMISSIONS.service_provider]),
      ].sort(),
      emailVerified: true,
      isActive: true,
    });
    expect(new Date(page.items[0].createdAt).toISOString()).toBe(page.items[0].createdAt);
  });

  it('filters by email prefix, case-insensitively, and only by prefix', async () => {
    const prefix = freshPrefix('pfx');
    const first = await createUser(t, ['homeowner'], { email: `${prefix}-1@example.com` });
    const second = await createUser(t, ['homeowner'], { email: `${prefix}-2@example.com` });
    await createUser(t, ['homeowner'], { email: `x-${prefix}@example.com` });

    const res = await list(`email=${prefix.toUpperCase()}`);
    expect(res.statusCode).toBe(200);
    expect(idsOf(res.json())).toEqual([second.id, first.id]);
  });

  it('treats % and _ in the email filter as the characters they are, not wildcards', async () => {
    const prefix = freshPrefix('wild');
    await createUser(t, ['homeowner'], { email: `${prefix}-x@example.com` });
    for (const pattern of ['%', '_', `${prefix.slice(0, 3)}_`, `%${prefix.slice(1)}`]) {
      const res = await list(`email=${encodeURIComponent(pattern)}`);
      expect({ pattern, items: res.json().items }).toEqual({ pattern, items: [] });
    }
  });

  it('filters by role, alone and together with an email prefix', async () => {
    const prefix = freshPrefix('byrole');
    const owner = await createUser(t, ['homeowner'], { email: `${prefix}-o@example.com` });
    const provider = await createUser(t, ['service_provider'], {
      email: `${prefix}-p@example.com`,
    });
    const both = await createUser(t, ['homeowner', 'service_provider'], {
      email: `${prefix}-b@example.com`,
    });

    const providers = await list(`email=${prefix}&role=service_provider`);
    expect(idsOf(providers.json())).toEqual([both.id, provider.id]);
    const owners = await list(`email=${prefix}&role=homeowner`);
    expect(idsOf(owners.json())).toEqual([both.id, owner.id]);

    const admins = await list('role=admin&limit=100');
    expect(admins.statusCode).toBe(200);
    const items = admins.json().items as Array<{ id: string; roles: string[] }>;
    expect(items.map((item) => item.id)).toContain(admin.id);
    for (const item of items) expect(item.roles).toContain('admin');
  });

  it('walks 25 users in pages of 10 with no repeat and no gap, while others sign up mid-walk', async () => {
    const prefix = freshPrefix('walk');
    const originals: string[] = [];
    for (let i = 0; i < 25; i++) {
      const user = await createUser(t, ['homeowner'], {
        email: `${prefix}-${String(i).padStart(2, '0')}@example.com`,
      });
      originals.push(user.id);
    }

    const seen: string[] = [];
    const pageSizes: number[] = [];
    const latecomers: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`email=${prefix}&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...idsOf(page));
      pageSizes.push(page.items.length);
      cursor = page.nextCursor;
      if (pageSizes.length === 1) {
        // Newer than every user already listed: keyset paging never shows them on a later page,
        // where offset paging would shift and repeat rows.
        for (let i = 0; i < 3; i++) {
          const late = await createUser(t, ['homeowner'], {
            email: `${prefix}-late-${i}@example.com`,
          });
          latecomers.push(late.id);
        }
      }
    } while (cursor && pageSizes.length < 10);

    expect(pageSizes).toEqual([10, 10, 5]);
    expect(seen).toEqual([...originals].reverse());

    const restart = await list(`email=${prefix}&limit=10`);
    expect(idsOf(restart.json()).slice(0, 3)).toEqual([...latecomers].reverse());
  });

  it('pages 20 at a time unless told otherwise', async () => {
    const res = await list('');
    expect(res.statusCode).toBe(200);
    expect(res.json().items.length).toBeLessThanOrEqual(20);
    expect(res.json().items.length).toBeGreaterThan(0);
  });
});

describe('GET /admin/users/{id}', () => {
  it('returns one account with its roles and permissions as they are now', async () => {
    const user = await createUser(t, ['service_provider'], { fullName: 'Sam Provider' });
    const res = await send(t, {
      method: 'GET',
      url: `/admin/users/${user.id}`,
      headers: admin.headers,
    });
    expect(res.statusCode).toBe(200);
    // The list leaves it out; one account also says whether it has a second factor.
    expect(Object.keys(res.json()).sort()).toEqual([...USER_KEYS, 'mfa'].sort());
    expect(res.json()).toMatchObject({
      id: user.id,
      email: user.email,
      fullName: 'Sam Provider',
      roles: ['service_provider'],
      permissions: SEEDED_PERMISSIONS.service_provider,
      isActive: true,
      mfa: { totp: false },
    });
  });

  it('shows an admin the full permission set', async () => {
    const res = await send(t, {
      method: 'GET',
      url: `/admin/users/${admin.id}`,
      headers: admin.headers,
    });
    expect(res.json()).toMatchObject({ roles: ['admin'], permissions: SEEDED_PERMISSIONS.admin });
  });
});

describe('PATCH /admin/users/{id}', () => {
  it('disables and re-enables an account, answering the updated User', async () => {
    const user = await createUser(t, ['homeowner']);
    const off = await adminApi.setActive(t, admin, user.id, false);
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ id: user.id, isActive: false, roles: ['homeowner'] });

    const on = await adminApi.setActive(t, admin, user.id, true);
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ id: user.id, isActive: true });
  });

  it('answers 200 and records nothing when the account already has that state', async () => {
    const user = await createUser(t, ['homeowner']);
    const res = await adminApi.setActive(t, admin, user.id, true);
    expect(res.statusCode).toBe(200);
    expect(res.json().isActive).toBe(true);
    expect(await auditRows(t, 'user.enabled', user.id)).toEqual([]);
  });
});
