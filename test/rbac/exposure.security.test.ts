import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oneTimeTokens, refreshTokens, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, loginAs, STRONG_PASSWORD, type TestUser } from '../helpers/users.js';
import { SECRET_KEYS, secretKeysIn, send } from './support.js';

/**
 * API3 data exposure. Every response this suite reads goes through `send`, which fails on a body
 * holding a key named like a secret. Here the admin reads everything there is to read on a
 * database full of hashes and tokens, and no secret value turns up either, under any key.
 */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

describe('the secret-key scan every test here relies on', () => {
  it('finds a secret key at any depth, in objects and arrays', () => {
    const body = {
      items: [{ id: 1, profile: { passwordHash: 'x' } }, { token_hash: 'y' }],
      nested: [[{ password: 'z' }]],
      tokenHash: null,
    };
    expect(secretKeysIn(body)).toEqual([
      '$.items[0].profile.passwordHash',
      '$.items[1].token_hash',
      '$.nested[0][0].password',
      '$.tokenHash',
    ]);
    expect(SECRET_KEYS).toEqual(
      expect.arrayContaining([
        'passwordHash',
        'password_hash',
        'tokenHash',
        'token_hash',
        'password',
      ]),
    );
  });

  it('lets ordinary bodies through', () => {
    expect(secretKeysIn({ items: [{ email: 'a@example.com', roles: ['admin'] }] })).toEqual([]);
  });
});

describe('what an admin can read holds no password, hash or token', () => {
  it('across user lists, users, roles, the audit trail and sessions', async () => {
    // Put every kind of secret in the database: hashes, live and rotated refresh tokens,
    // a password reset token, a changed password.
    const people: TestUser[] = [];
    for (const roles of [['homeowner'], ['service_provider'], ['homeowner', 'service_provider']]) {
      people.push(await loginAs(t, roles));
    }
    const rotated = await send(t, {
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: people[0]!.refreshToken },
    });
    expect(rotated.statusCode).toBe(200);
    const reset = await send(t, {
      method: 'POST',
      url: '/auth/forgot-password',
      payload: { email: people[1]!.email },
    });
    expect(reset.statusCode).toBe(202);
    const newPassword = 'a brand new password 777';
    const changed = await send(t, {
      method: 'POST',
      url: '/users/me/password',
      headers: people[2]!.headers,
      payload: { currentPassword: STRONG_PASSWORD, newPassword },
    });
    expect(changed.statusCode).toBe(204);
    await createUser(t, ['homeowner'], { emailVerified: false });
    await login(t, people[2]!.email, newPassword);

    const bodies: string[] = [];
    const read = async (url: string, headers = admin.headers) => {
      const res = await send(t, { method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(200);
      bodies.push(res.body);
      return res.json();
    };
    const walk = async (path: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await read(`${path}?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        ids.push(...page.items.map((item: { id: string }) => item.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    const userIds = await walk('/admin/users');
    for (const id of userIds) await read(`/admin/users/${id}`);
    await walk('/admin/audit-events');
    await read('/admin/roles');
    for (const person of [admin, ...people.slice(0, 2)]) {
      await read('/users/me', person.headers);
      await read('/auth/sessions', person.headers);
    }

    const hashes = [
      ...(await t.app.db.select({ value: users.passwordHash }).from(users)),
      ...(await t.app.db.select({ value: refreshTokens.tokenHash }).from(refreshTokens)),
      ...(await t.app.db.select({ value: oneTimeTokens.tokenHash }).from(oneTimeTokens)),
    ].map((row) => row.value);
    expect(hashes.length).toBeGreaterThan(userIds.length);
    const secrets = [
      ...hashes,
      STRONG_PASSWORD,
      newPassword,
      ...people.map((person) => person.refreshToken),
      rotated.json().refresh_token,
    ];
    const leaks = secrets.filter((secret) => bodies.some((body) => body.includes(secret)));
    expect(leaks).toEqual([]);
  });

  it('problem bodies do not echo a password that was sent', async () => {
    const wrong = 'not my password at all 123';
    const failures = [
      await send(t, {
        method: 'POST',
        url: '/auth/login',
        payload: { email: admin.email, password: wrong },
      }),
      await send(t, {
        method: 'DELETE',
        url: '/users/me',
        headers: admin.headers,
        payload: { password: wrong },
      }),
      await send(t, {
        method: 'POST',
        url: '/auth/register',
        payload: {
          email: 'weak@example.com',
          password: '123qweasdzxc',
          fullName: 'W',
          role: 'homeowner',
        },
      }),
    ];
    for (const res of failures) {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain(wrong);
      expect(res.body).not.toContain('123qweasdzxc');
    }
  });
});
