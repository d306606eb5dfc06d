import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser } from '../helpers/users.js';
import {
  expectProblem,
  GENEROUS_LIMITS,
  loginRequest,
  outboxRows,
  post,
  resetTokenFor,
} from './support.js';

/** Reset tokens are single-use, expire after 30 minutes and are voided by a newer one. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const reset = (token: unknown, newPassword: unknown = 'yet another fine passphrase') =>
  post(t, '/auth/reset-password', { token, newPassword });

describe('POST /auth/reset-password → 400 invalid_token', () => {
  it('a token used once already; the first new password stays', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    expect((await reset(token, 'the first new passphrase')).statusCode).toBe(204);
    expectProblem(await reset(token, 'the second new passphrase'), 400, 'invalid_token');
    expect((await loginRequest(t, user.email, 'the first new passphrase')).statusCode).toBe(200);
    expect((await loginRequest(t, user.email, 'the second new passphrase')).statusCode).toBe(401);
  });

  it('a token past its 30 minutes (31 minutes later); the password is unchanged', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    t.clock.advance(31 * 60);
    expectProblem(await reset(token), 400, 'invalid_token');
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
  });

  it('a token still works at 29 minutes', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    t.clock.advance(29 * 60);
    expect((await reset(token)).statusCode).toBe(204);
  });

  it('a token superseded by a newer one; the newer one works', async () => {
    const user = await createUser(t);
    const older = await resetTokenFor(t, user.email);
    const newer = await resetTokenFor(t, user.email);
    expect(newer).not.toBe(older);
    expectProblem(await reset(older), 400, 'invalid_token');
    expect((await reset(newer)).statusCode).toBe(204);
  });

  it('an unknown token', async () => {
    expectProblem(await reset('B'.repeat(43)), 400, 'invalid_token');
  });

  it('the token of an account disabled since it was sent', async () => {
    const user = await createUser(t);
    const admin = await createUser(t, ['admin']);
    const adminLogin = (await loginRequest(t, admin.email, admin.password)).json();
    const token = await resetTokenFor(t, user.email);
    await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: { authorization: `Bearer ${adminLogin.access_token}` },
      payload: { isActive: false },
    });
    expectProblem(await reset(token), 400, 'invalid_token');
  });
});

describe('POST /auth/reset-password → 400 validation_failed', () => {
  it.each([
    ['a missing token', { newPassword: 'some fine passphrase' }],
    ['a missing password', { token: 'C'.repeat(43) }],
    ['a malformed token', { token: 'short', newPassword: 'some fine passphrase' }],
    [
      'an extra field',
      { token: 'C'.repeat(43), newPassword: 'some fine passphrase', email: 'a@b.co' },
    ],
  ])('%s', async (_label, body) => {
    expectProblem(await post(t, '/auth/reset-password', body), 400, 'validation_failed');
  });
});

describe('POST /auth/forgot-password sends nothing where nothing is due', () => {
  it('a disabled account: 202, no mail', async () => {
    const disabled = await createUser(t, ['homeowner'], { isActive: false });
    expect((await post(t, '/auth/forgot-password', { email: disabled.email })).statusCode).toBe(
      202,
    );
    expect(await outboxRows(t, disabled.email)).toHaveLength(0);
  });

  it('an invalid email → 400', async () => {
    expectProblem(
      await post(t, '/auth/forgot-password', { email: 'not an email' }),
      400,
      'validation_failed',
    );
  });
});
