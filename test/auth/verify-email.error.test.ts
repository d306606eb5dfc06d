import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, STRONG_PASSWORD } from '../helpers/users.js';
import {
  expectProblem,
  GENEROUS_LIMITS,
  loginRequest,
  outboxRows,
  post,
  registerAndReadToken,
  userRow,
} from './support.js';

/** Verification tokens are single-use and expire after 24 h; unverified accounts cannot sign in. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const verify = (token: unknown) => post(t, '/auth/verify-email', { token });

describe('POST /auth/verify-email → 400 invalid_token', () => {
  it('an unknown token of the right shape', async () => {
    expectProblem(await verify('A'.repeat(43)), 400, 'invalid_token');
  });

  it('a used token', async () => {
    const { token } = await registerAndReadToken(t);
    expect((await verify(token)).statusCode).toBe(200);
    expectProblem(await verify(token), 400, 'invalid_token');
  });

  it('a token past its 24 hours, and the account stays unverified', async () => {
    const { email, token } = await registerAndReadToken(t);
    t.clock.advance(24 * 3600 + 1);
    expectProblem(await verify(token), 400, 'invalid_token');
    expect((await userRow(t, email))?.emailVerified).toBe(false);
  });
});

describe('POST /auth/verify-email → 400 validation_failed', () => {
  it.each([
    ['too short', 'abc'],
    ['with characters outside base64url', `${'a'.repeat(40)}+/=`],
    ['too long', 'a'.repeat(129)],
    ['not a string', 1234567890123456],
    ['a SQL payload', "' or 1=1 --aaaaaaaaaaaa"],
  ])('a token %s', async (_label, token) => {
    expectProblem(await verify(token), 400, 'validation_failed');
  });

  it('an extra field', async () => {
    const res = await post(t, '/auth/verify-email', { token: 'A'.repeat(43), email: 'x@y.zz' });
    expectProblem(res, 400, 'validation_failed');
  });
});

describe('unverified accounts cannot sign in', () => {
  it('correct password → 403 email_not_verified', async () => {
    const { email } = await registerAndReadToken(t);
    expectProblem(await loginRequest(t, email, STRONG_PASSWORD), 403, 'email_not_verified');
  });

  it('wrong password → 401 invalid_credentials (the state is revealed only to the owner)', async () => {
    const { email } = await registerAndReadToken(t);
    expectProblem(
      await loginRequest(t, email, 'a wrong password here'),
      401,
      'invalid_credentials',
    );
  });
});

describe('POST /auth/resend-verification sends nothing where nothing is due', () => {
  it('a verified account: 202, no mail', async () => {
    const verified = await createUser(t);
    const res = await post(t, '/auth/resend-verification', { email: verified.email });
    expect(res.statusCode).toBe(202);
    expect(await outboxRows(t, verified.email)).toHaveLength(0);
  });

  it('a disabled, unverified account: 202, no mail', async () => {
    const disabled = await createUser(t, ['homeowner'], { emailVerified: false, isActive: false });
    const res = await post(t, '/auth/resend-verification', { email: disabled.email });
    expect(res.statusCode).toBe(202);
    expect(await outboxRows(t, disabled.email)).toHaveLength(0);
  });

  it('an invalid email → 400', async () => {
    expectProblem(
      await post(t, '/auth/resend-verification', { email: 'nope' }),
      400,
      'validation_failed',
    );
  });
});
