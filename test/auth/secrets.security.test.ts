import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailOutbox, oneTimeTokens, refreshTokens, users } from '../../src/db/schema.js';
import { sha256 } from '../../src/modules/auth/tokens.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { uniqueEmail } from '../helpers/users.js';
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
 * Secrets are never at rest or in the logs in clear: refresh, verification and reset tokens are
 * stored as SHA-256, queued mail is sealed and erased once sent, and no issued token or password
 * reaches a log line (with SMTP configured, not even the mail link).
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

/** Everything secret this file's flow hands out or sends, to be looked for afterwards. */
const secrets = new Map<string, string>();
const email = uniqueEmail('secret');

describe('a whole account lifecycle', () => {
  it('runs register → verify → login → refresh → forgot → reset → change → resend, collecting secrets', async () => {
    const first = 'first secret passphrase 1a2b';
    const second = 'second secret passphrase 3c4d';
    const third = 'third secret passphrase 5e6f';
    const wrong = 'wrong secret passphrase 7g8h';
    secrets.set('first password', first);
    secrets.set('second password', second);
    secrets.set('third password', third);
    secrets.set('wrong password', wrong);

    expect((await registerRequest(t, { email, password: first })).statusCode).toBe(202);
    const verifyToken = tokenFrom(await t.mailbox.next(email));
    secrets.set('verification token', verifyToken);
    expect((await post(t, '/auth/verify-email', { token: verifyToken })).statusCode).toBe(200);

    expect((await loginRequest(t, email, wrong)).statusCode).toBe(401);
    const pair = (await loginRequest(t, email, first)).json();
    secrets.set('access token', pair.access_token);
    secrets.set('refresh token', pair.refresh_token);
    const rotated = (await refresh(t, pair.refresh_token)).json();
    secrets.set('rotated access token', rotated.access_token);
    secrets.set('rotated refresh token', rotated.refresh_token);

    const resetToken = await resetTokenFor(t, email);
    secrets.set('reset token', resetToken);
    expect(
      (await post(t, '/auth/reset-password', { token: resetToken, newPassword: second }))
        .statusCode,
    ).toBe(204);
    await t.mailbox.next(email); // the "password changed" notice

    const again = (await loginRequest(t, email, second)).json();
    secrets.set('third access token', again.access_token);
    secrets.set('third refresh token', again.refresh_token);
    const change = await post(
      t,
      '/users/me/password',
      { currentPassword: second, newPassword: third },
      again.access_token,
    );
    expect(change.statusCode).toBe(204);
    await t.mailbox.next(email);

    // A second account, unverified, asks for its link again.
    const other = uniqueEmail('secret-other');
    await registerRequest(t, { email: other });
    secrets.set('other verification token', tokenFrom(await t.mailbox.next(other)));
    await post(t, '/auth/resend-verification', { email: other });
    secrets.set('resent verification token', tokenFrom(await t.mailbox.next(other)));
    await t.app.jobs.runDue();
  });
});

describe('no secret reaches the logs', () => {
  it('the log was captured (security events are there)', () => {
    const log = t.logs.join('');
    expect(log).toContain('security event auth.login_succeeded');
    expect(log).toContain('security event user.password_reset');
    expect(log).toContain('mail delivered');
  });

  it('no issued token, password or mail link is in any log line', () => {
    const log = t.logs.join('');
    expect(secrets.size).toBe(14);
    for (const [name, secret] of secrets) expect(log.includes(secret), name).toBe(false);
    expect(log).not.toMatch(/token=/);
    expect(log).not.toContain(t.config.jwtSecret);
    expect(log).not.toContain(t.config.passwordPepper);
  });
});

describe('no secret is stored in clear', () => {
  it('refresh tokens: the table holds SHA-256 digests only', async () => {
    const stored = (
      await t.app.db.select({ hash: refreshTokens.tokenHash }).from(refreshTokens)
    ).map((row) => row.hash);
    for (const name of ['refresh token', 'rotated refresh token', 'third refresh token']) {
      const token = secrets.get(name)!;
      expect(stored, name).not.toContain(token);
      expect(stored, name).toContain(sha256(token));
    }
  });

  it('verification and reset tokens: SHA-256 digests only', async () => {
    const stored = (
      await t.app.db.select({ hash: oneTimeTokens.tokenHash }).from(oneTimeTokens)
    ).map((row) => row.hash);
    for (const name of [
      'verification token',
      'reset token',
      'other verification token',
      'resent verification token',
    ]) {
      const token = secrets.get(name)!;
      expect(stored, name).not.toContain(token);
      expect(stored, name).toContain(sha256(token));
    }
  });

  it('the password hash is not the password, and no column anywhere holds a secret', async () => {
    const user = await userRow(t, email);
    const dump = JSON.stringify({
      user,
      users: await t.app.db.select().from(users),
      tokens: await t.app.db.select().from(oneTimeTokens),
      refresh: await t.app.db.select().from(refreshTokens),
      mail: await t.app.db.select().from(mailOutbox),
    });
    for (const [name, secret] of secrets) expect(dump.includes(secret), name).toBe(false);
  });

  it('sent mail is erased from the outbox (payload null), only the envelope remains', async () => {
    const rows = await t.app.db.select().from(mailOutbox).where(eq(mailOutbox.recipient, email));
    expect(rows.map((row) => row.template).sort()).toEqual([
      'password_changed',
      'password_changed',
      'reset_password',
      'verify_email',
    ]);
    for (const row of rows) {
      expect(row.status).toBe('sent');
      expect(row.payload).toBeNull();
    }
  });
});
