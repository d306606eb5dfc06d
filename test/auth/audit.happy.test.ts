import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { createUser, login, uniqueEmail } from '../helpers/users.js';
import {
  GENEROUS_LIMITS,
  loginRequest,
  post,
  refresh,
  registerRequest,
  resetTokenFor,
  userRow,
} from './support.js';

/**
 * Security events land in audit_events, in the transaction of the change they record: register,
 * verify, login success and failure, refresh reuse, logout, password change, reset, disable.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

async function trailOf(userId: string) {
  const rows = await t.app.db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.subjectId, userId))
    .orderBy(asc(auditEvents.id));
  return rows;
}

describe('audit_events', () => {
  it('one user’s life, event by event, each with the address and request id', async () => {
    const email = uniqueEmail('audited');
    const password = 'an audited passphrase 123';
    const registered = await registerRequest(t, { email, password });
    const user = await userRow(t, email);
    const token = tokenFrom(await t.mailbox.next(email));
    await post(t, '/auth/verify-email', { token });
    await loginRequest(t, email, 'a wrong passphrase 000');
    const session = (await loginRequest(t, email, password)).json();
    const rotated = (await refresh(t, session.refresh_token)).json();
    await refresh(t, (await refresh(t, rotated.refresh_token)).json().refresh_token);
    await refresh(t, session.refresh_token); // replay → reuse
    const second = (await loginRequest(t, email, password)).json();
    await post(
      t,
      '/users/me/password',
      { currentPassword: password, newPassword: 'a changed passphrase 456' },
      second.access_token,
    );
    await post(t, '/auth/logout', undefined, second.access_token);
    const resetToken = await resetTokenFor(t, email);
    await post(t, '/auth/reset-password', {
      token: resetToken,
      newPassword: 'a reset passphrase 789',
    });

    const trail = await trailOf(user!.id);
    expect(trail.map((event) => event.type)).toEqual([
      'user.registered',
      'user.email_verified',
      'auth.login_failed',
      'auth.login_succeeded',
      'auth.refresh_reuse',
      'auth.login_succeeded',
      'user.password_changed',
      'auth.logout',
      'user.password_reset_requested',
      'user.password_reset',
    ]);
    for (const event of trail) {
      expect(event.ip).toBe('127.0.0.1');
      expect(event.requestId).toBeTruthy();
      expect(event.createdAt).toBeInstanceOf(Date);
    }
    expect(trail[0]?.requestId).toBe(registered.headers['x-request-id']);
  });

  it('a disable by an admin names the admin as actor and the user as subject', async () => {
    const adminAccount = await createUser(t, ['admin']);
    const admin = await login(t, adminAccount.email, adminAccount.password);
    const user = await createUser(t);
    await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: admin.headers,
      payload: { isActive: false },
    });
    const trail = await trailOf(user.id);
    expect(trail.map((event) => event.type)).toEqual(['user.disabled']);
    expect(trail[0]?.actorId).toBe(admin.id);
  });

  it('events outlive the account they mention', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: session.headers,
      payload: { password: user.password },
    });
    const types = (await trailOf(user.id)).map((event) => event.type);
    expect(types).toEqual(['auth.login_succeeded', 'user.deleted']);
  });
});
