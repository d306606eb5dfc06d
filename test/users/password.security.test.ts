import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  post,
  refresh,
  userRow,
} from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login } from '../helpers/users.js';

/**
 * A stolen access token is not enough to take the account: changing the password needs the
 * current one, and the owner changing it throws the thief's session out.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('password change with a stolen token', () => {
  it('the thief, without the current password, cannot change it (400), however often they try', async () => {
    const user = await createUser(t);
    const stolen = await login(t, user.email, user.password);
    const before = (await userRow(t, user.email))!.passwordHash;
    for (const guess of ['guess one is wrong', 'guess two is wrong', '']) {
      const res = await post(
        t,
        '/users/me/password',
        { currentPassword: guess, newPassword: 'the thief wants this one' },
        stolen.accessToken,
      );
      expect(res.statusCode).toBe(400);
    }
    expect((await userRow(t, user.email))!.passwordHash).toBe(before);
    expect((await loginRequest(t, user.email, 'the thief wants this one')).statusCode).toBe(401);
  });

  it('the owner changes it from another session: the thief’s access and refresh tokens are 401', async () => {
    const user = await createUser(t);
    const thief = await login(t, user.email, user.password);
    const owner = await login(t, user.email, user.password);
    // The thief has even rotated their refresh token in the meantime.
    const rotated = (await refresh(t, thief.refreshToken)).json();

    const res = await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: 'owner keeps the house' },
      owner.accessToken,
    );
    expect(res.statusCode).toBe(204);
    for (const token of [thief.accessToken, rotated.access_token]) {
      expectUnauthorized(await me(t, token));
    }
    expectUnauthorized(await refresh(t, rotated.refresh_token));
    expect((await me(t, owner.accessToken)).statusCode).toBe(200);
  });

  it('the thief cannot delete the account without the password either', async () => {
    const user = await createUser(t);
    const stolen = await login(t, user.email, user.password);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: stolen.headers,
      payload: { password: 'not the password' },
    });
    expect(res.statusCode).toBe(400);
    expect(await userRow(t, user.email)).toBeDefined();
  });
});
