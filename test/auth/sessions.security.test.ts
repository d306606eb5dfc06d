import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, type TestUser } from '../helpers/users.js';
import {
  expectUnauthorized,
  GENEROUS_LIMITS,
  get,
  me,
  post,
  refresh,
  resetTokenFor,
} from './support.js';

/**
 * Every request checks the session in the database, so an access token dies the moment its
 * session does, not when it expires: after logout, logout-all, disable, delete, reset and
 * password change (for the other sessions). Refresh tokens die with them.
 */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
  const account = await createUser(t, ['admin']);
  admin = await login(t, account.email, account.password);
});
afterAll(() => t.close());

/** Two live sessions of one new user, both proven to work. */
async function userWithTwoSessions() {
  const user = await createUser(t);
  const first = await login(t, user.email, user.password);
  const second = await login(t, user.email, user.password);
  for (const session of [first, second])
    expect((await me(t, session.accessToken)).statusCode).toBe(200);
  return { user, first, second };
}

async function expectDead(session: TestUser) {
  expectUnauthorized(await me(t, session.accessToken));
  expectUnauthorized(await get(t, '/auth/sessions', session.accessToken));
  expectUnauthorized(await refresh(t, session.refreshToken));
}

describe('tokens die at once, long before they expire', () => {
  it('after logout (that session)', async () => {
    const { first } = await userWithTwoSessions();
    await post(t, '/auth/logout', undefined, first.accessToken);
    await expectDead(first);
  });

  it('after logout-all (every session)', async () => {
    const { first, second } = await userWithTwoSessions();
    await post(t, '/auth/logout-all', undefined, first.accessToken);
    await expectDead(first);
    await expectDead(second);
  });

  it('after an admin disables the account (every session), and a re-enable does not revive them', async () => {
    const { user, first, second } = await userWithTwoSessions();
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: admin.headers,
      payload: { isActive: false },
    });
    expect(res.statusCode, res.body).toBe(200);
    await expectDead(first);
    await expectDead(second);
    const logins = await post(t, '/auth/login', { email: user.email, password: user.password });
    expect(logins.statusCode).toBe(403);

    await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: admin.headers,
      payload: { isActive: true },
    });
    await expectDead(first);
    expect((await login(t, user.email, user.password)).accessToken).toBeTruthy();
  });

  it('after is_active is cleared in the database, sessions untouched (checked on every request)', async () => {
    const { user, first } = await userWithTwoSessions();
    await t.app.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    await expectDead(first);
  });

  it('after the account is deleted (every session, and the rows are gone)', async () => {
    const { user, first, second } = await userWithTwoSessions();
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: first.headers,
      payload: { password: user.password },
    });
    expect(res.statusCode).toBe(204);
    await expectDead(first);
    await expectDead(second);
    expect(await t.app.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
  });

  it('after a password reset (every session)', async () => {
    const { user, first, second } = await userWithTwoSessions();
    const token = await resetTokenFor(t, user.email);
    const res = await post(t, '/auth/reset-password', {
      token,
      newPassword: 'reset to something new and long',
    });
    expect(res.statusCode).toBe(204);
    await expectDead(first);
    await expectDead(second);
  });

  it('after a password change (every other session; the changing one lives)', async () => {
    const { user, first, second } = await userWithTwoSessions();
    const res = await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: 'changed to something new and long' },
      first.accessToken,
    );
    expect(res.statusCode).toBe(204);
    await expectDead(second);
    expect((await me(t, first.accessToken)).statusCode).toBe(200);
    expect((await refresh(t, first.refreshToken)).statusCode).toBe(200);
  });

  it('after DELETE /auth/sessions/{id} from another session', async () => {
    const { first, second } = await userWithTwoSessions();
    const sid = (await get(t, '/auth/sessions', first.accessToken))
      .json()
      .find((session: { current: boolean }) => !session.current).id;
    await t.app.inject({ method: 'DELETE', url: `/auth/sessions/${sid}`, headers: first.headers });
    await expectDead(second);
  });
});
