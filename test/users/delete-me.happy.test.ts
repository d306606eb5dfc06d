import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oneTimeTokens, sessions, userRoles, users } from '../../src/db/schema.js';
import {
  auditRows,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  refresh,
} from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login } from '../helpers/users.js';

/** DELETE /users/me with the password: the account and what it owns are gone. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('DELETE /users/me', () => {
  it('204; the user row, roles, sessions and tokens are gone; every old token is 401', async () => {
    const user = await createUser(t);
    const first = await login(t, user.email, user.password);
    const second = await login(t, user.email, user.password);
    await t.app.inject({
      method: 'POST',
      url: '/auth/forgot-password',
      payload: { email: user.email },
    });

    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: first.headers,
      payload: { password: user.password },
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    const db = t.app.db;
    expect(await db.select().from(users).where(eq(users.id, user.id))).toEqual([]);
    expect(await db.select().from(userRoles).where(eq(userRoles.userId, user.id))).toEqual([]);
    expect(await db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
    expect(await db.select().from(oneTimeTokens).where(eq(oneTimeTokens.userId, user.id))).toEqual(
      [],
    );
    for (const session of [first, second]) {
      expectUnauthorized(await me(t, session.accessToken));
      expectUnauthorized(await refresh(t, session.refreshToken));
    }
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(401);
  });

  it('frees the email: it can be registered again as a new account', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: session.headers,
      payload: { password: user.password },
    });
    const again = await createUser(t, ['homeowner'], { email: user.email });
    expect(again.id).not.toBe(user.id);
  });

  it('records user.deleted', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: session.headers,
      payload: { password: user.password },
    });
    const events = await auditRows(t, 'user.deleted');
    expect(events.find((event) => event.subjectId === user.id)?.actorId).toBe(user.id);
  });
});
