import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import {
  bodyWithoutRequestId,
  GENEROUS_LIMITS,
  loginRequest,
  outboxRows,
  post,
  registerAndReadToken,
  resetTokenFor,
  userRow,
} from './support.js';

/** Verification cannot be bypassed, and resending reveals nothing about accounts. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('a verification token is bound to its user', () => {
  it('verifies the account it was sent for and no other', async () => {
    const a = await registerAndReadToken(t);
    const b = await registerAndReadToken(t);
    expect((await post(t, '/auth/verify-email', { token: a.token })).statusCode).toBe(200);

    expect((await userRow(t, a.email))?.emailVerified).toBe(true);
    expect((await userRow(t, b.email))?.emailVerified).toBe(false);
    expect((await loginRequest(t, b.email, STRONG_PASSWORD)).statusCode).toBe(403);
  });

  it('concurrent uses of one token: exactly one succeeds', async () => {
    const { token } = await registerAndReadToken(t);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post(t, '/auth/verify-email', { token })),
    );
    const statuses = answers.map((res) => res.statusCode).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400]);
  });
});

describe('tokens of one purpose do not serve another', () => {
  it('a verification token is not a reset token', async () => {
    const { email, token } = await registerAndReadToken(t);
    const res = await post(t, '/auth/reset-password', {
      token,
      newPassword: 'hijacked via the wrong token',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_token');
    // It still verifies, and the password is unchanged.
    expect((await post(t, '/auth/verify-email', { token })).statusCode).toBe(200);
    expect((await loginRequest(t, email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('a reset token does not verify an email', async () => {
    const unverified = await createUser(t, ['homeowner'], { emailVerified: false });
    const token = await resetTokenFor(t, unverified.email);
    const res = await post(t, '/auth/verify-email', { token });
    expect(res.statusCode).toBe(400);
    expect((await userRow(t, unverified.email))?.emailVerified).toBe(false);
  });

  it('a refresh token does not verify an email', async () => {
    const user = await createUser(t, ['homeowner'], { emailVerified: false });
    const other = await createUser(t);
    const login = await loginRequest(t, other.email, other.password);
    const res = await post(t, '/auth/verify-email', { token: login.json().refresh_token });
    expect(res.statusCode).toBe(400);
    expect((await userRow(t, user.email))?.emailVerified).toBe(false);
  });
});

describe('no account enumeration through POST /auth/resend-verification', () => {
  it('unknown, unverified and verified emails: same status and body; mail only to the unverified', async () => {
    const unknown = uniqueEmail('nobody');
    const { email: unverified } = await registerAndReadToken(t);
    const verified = (await createUser(t)).email;

    const answers = await Promise.all(
      [unknown, unverified, verified].map((email) =>
        post(t, '/auth/resend-verification', { email }),
      ),
    );
    for (const res of answers) expect(res.statusCode).toBe(202);
    const bodies = answers.map(bodyWithoutRequestId);
    expect(new Set(bodies).size).toBe(1);

    expect((await t.mailbox.next(unverified)).subject).toMatch(/confirm your email/i);
    expect(await outboxRows(t, unverified)).toHaveLength(2);
    expect(await outboxRows(t, unknown)).toHaveLength(0);
    expect(await outboxRows(t, verified)).toHaveLength(0);
  });
});
