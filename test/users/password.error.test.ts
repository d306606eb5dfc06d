import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectProblem,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  outboxRows,
  post,
} from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login } from '../helpers/users.js';

/** POST /users/me/password refusals: nothing changes, nobody is signed out, nothing is mailed. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

async function twoSessions() {
  const user = await createUser(t);
  const changer = await login(t, user.email, user.password);
  const other = await login(t, user.email, user.password);
  return { user, changer, other };
}

describe('POST /users/me/password', () => {
  it('a wrong current password → 400 naming /body/currentPassword; nothing changes', async () => {
    const { user, changer, other } = await twoSessions();
    const res = await post(
      t,
      '/users/me/password',
      { currentPassword: 'this is not it at all', newPassword: 'a new passphrase here' },
      changer.accessToken,
    );
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors).toEqual([{ path: '/body/currentPassword', message: 'is incorrect' }]);
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
    expect((await me(t, other.accessToken)).statusCode).toBe(200);
    expect(await outboxRows(t, user.email)).toHaveLength(0);
  });

  it('a weak new password → 400 weak_password; nothing changes', async () => {
    const { user, changer, other } = await twoSessions();
    const res = await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: 'password123' },
      changer.accessToken,
    );
    expectProblem(res, 400, 'weak_password');
    expect((await me(t, other.accessToken)).statusCode).toBe(200);
  });

  it.each([
    ['no current password', { newPassword: 'a new passphrase here' }],
    ['no new password', { currentPassword: 'whatever it is' }],
    [
      'an extra field',
      { currentPassword: 'x', newPassword: 'a new passphrase here', email: 'a@b.co' },
    ],
    ['a new password of 129 characters', { currentPassword: 'x', newPassword: 'p'.repeat(129) }],
  ])('%s → 400 validation_failed', async (_label, body) => {
    const { changer } = await twoSessions();
    expectProblem(
      await post(t, '/users/me/password', body, changer.accessToken),
      400,
      'validation_failed',
    );
  });

  it('no bearer token → 401', async () => {
    expectUnauthorized(
      await post(t, '/users/me/password', {
        currentPassword: 'whatever it is',
        newPassword: 'a new passphrase here',
      }),
    );
  });
});
