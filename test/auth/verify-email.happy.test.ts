import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { STRONG_PASSWORD } from '../helpers/users.js';
import {
  auditRows,
  GENEROUS_LIMITS,
  loginRequest,
  post,
  registerAndReadToken,
  userRow,
} from './support.js';

/** POST /auth/verify-email and POST /auth/resend-verification. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('POST /auth/verify-email', () => {
  it('verifies with the mailed token: 200 with a message, then login works', async () => {
    const { email, token } = await registerAndReadToken(t);
    const res = await post(t, '/auth/verify-email', { token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: expect.any(String) });
    expect((await userRow(t, email))?.emailVerified).toBe(true);
    expect((await loginRequest(t, email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('works just before the 24 hours are up', async () => {
    const { email, token } = await registerAndReadToken(t);
    t.clock.advance(24 * 3600 - 60);
    expect((await post(t, '/auth/verify-email', { token })).statusCode).toBe(200);
    expect((await userRow(t, email))?.emailVerified).toBe(true);
  });

  it('records a user.email_verified audit event', async () => {
    const { email, token } = await registerAndReadToken(t);
    await post(t, '/auth/verify-email', { token });
    const user = await userRow(t, email);
    const events = await auditRows(t, 'user.email_verified');
    expect(events.find((event) => event.subjectId === user!.id)?.actorId).toBe(user!.id);
  });
});

describe('POST /auth/resend-verification', () => {
  it('answers 202 and mails a new link to an unverified account', async () => {
    const { email } = await registerAndReadToken(t);
    const res = await post(t, '/auth/resend-verification', { email: ` ${email.toUpperCase()} ` });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ message: expect.any(String) });
    const mail = await t.mailbox.next(email);
    expect(mail.subject).toMatch(/confirm your email/i);
  });

  it('the new token verifies; the older one is void from then on', async () => {
    const { email, token: older } = await registerAndReadToken(t);
    await post(t, '/auth/resend-verification', { email });
    const newer = tokenFrom(await t.mailbox.next(email));
    expect(newer).not.toBe(older);

    const stale = await post(t, '/auth/verify-email', { token: older });
    expect(stale.statusCode).toBe(400);
    expect(stale.json().code).toBe('invalid_token');
    expect((await userRow(t, email))?.emailVerified).toBe(false);

    expect((await post(t, '/auth/verify-email', { token: newer })).statusCode).toBe(200);
    expect((await userRow(t, email))?.emailVerified).toBe(true);
  });
});
