import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { createUser, login } from '../helpers/users.js';
import {
  auditRows,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  oneTimeRows,
  post,
  refresh,
  resetTokenFor,
  userRow,
} from './support.js';

/** POST /auth/forgot-password → mail → POST /auth/reset-password. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const NEW_PASSWORD = 'a brand new passphrase for home';

describe('the reset flow', () => {
  it('forgot → 202 and a mail with a reset link valid 30 minutes', async () => {
    const user = await createUser(t, ['homeowner'], { fullName: 'Forgetful Fran' });
    const res = await post(t, '/auth/forgot-password', { email: ` ${user.email.toUpperCase()}` });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ message: expect.any(String) });

    const mail = await t.mailbox.next(user.email);
    expect(mail.subject).toMatch(/reset your password/i);
    expect(mail.text).toContain('Hello Forgetful Fran,');
    expect(mail.text).toMatch(/http:\/\/app\.test\/reset-password\?token=[A-Za-z0-9_-]{43}\b/);
    expect(mail.text).toMatch(/30 minutes/);
    const [row] = await oneTimeRows(t, user.id);
    expect(row?.purpose).toBe('reset_password');
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(30 * 60 * 1000);
    expect(tokenFrom(mail)).toHaveLength(43);
  });

  it('reset → 204; every old session is dead; the new password works and the old does not', async () => {
    const user = await createUser(t);
    const laptop = await login(t, user.email, user.password);
    const phone = await login(t, user.email, user.password);
    const token = await resetTokenFor(t, user.email);

    const res = await post(t, '/auth/reset-password', { token, newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    for (const session of [laptop, phone]) {
      expectUnauthorized(await me(t, session.accessToken));
      expectUnauthorized(await refresh(t, session.refreshToken));
    }
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(401);
    expect((await loginRequest(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('mails a "password changed" notice after the reset', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    await post(t, '/auth/reset-password', { token, newPassword: NEW_PASSWORD });
    const notice = await t.mailbox.next(user.email);
    expect(notice.subject).toMatch(/password was changed/i);
    expect(notice.text).not.toMatch(/token=/);
  });

  it('a reset proves the mailbox: an unverified account is verified by it', async () => {
    const user = await createUser(t, ['homeowner'], { emailVerified: false });
    const token = await resetTokenFor(t, user.email);
    await post(t, '/auth/reset-password', { token, newPassword: NEW_PASSWORD });
    expect((await userRow(t, user.email))?.emailVerified).toBe(true);
    expect((await loginRequest(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('records the request and the reset in the audit trail', async () => {
    const user = await createUser(t);
    await login(t, user.email, user.password);
    const token = await resetTokenFor(t, user.email);
    await post(t, '/auth/reset-password', { token, newPassword: NEW_PASSWORD });
    const requested = await auditRows(t, 'user.password_reset_requested');
    expect(requested.some((event) => event.subjectId === user.id)).toBe(true);
    const reset = await auditRows(t, 'user.password_reset');
    expect(reset.find((event) => event.subjectId === user.id)).toMatchObject({
      actorId: user.id,
      data: { sessionsRevoked: 1 },
    });
  });
});
