import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  nextMail,
  post,
  refresh,
} from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login } from '../helpers/users.js';

/** POST /users/me/password: change with the current password; other sessions end; a notice is mailed. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const NEW_PASSWORD = 'my new and improved passphrase';

describe('POST /users/me/password', () => {
  it('204; the new password works, the old one does not', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    const res = await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: NEW_PASSWORD },
      session.accessToken,
    );
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(401);
    expect((await loginRequest(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('with two sessions: the other one’s tokens are 401, the changing one keeps working', async () => {
    const user = await createUser(t);
    const changer = await login(t, user.email, user.password);
    const other = await login(t, user.email, user.password);
    await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: NEW_PASSWORD },
      changer.accessToken,
    );

    expectUnauthorized(await me(t, other.accessToken));
    expectUnauthorized(await refresh(t, other.refreshToken));

    expect((await me(t, changer.accessToken)).statusCode).toBe(200);
    const renewed = await refresh(t, changer.refreshToken);
    expect(renewed.statusCode).toBe(200);
    expect((await me(t, renewed.json().access_token)).statusCode).toBe(200);
  });

  it('mails a "password changed" notice (without any link carrying a token)', async () => {
    const user = await createUser(t, ['homeowner'], { fullName: 'Careful Carla' });
    const session = await login(t, user.email, user.password);
    await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: NEW_PASSWORD },
      session.accessToken,
    );
    const notice = await nextMail(t, user.email, /password was changed/i);
    expect(notice.text).toContain('Hello Careful Carla,');
    expect(notice.text).toContain('http://app.test/forgot-password');
    expect(notice.text).not.toMatch(/token=/);
  });

  it('records user.password_changed with the number of sessions it ended', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    await login(t, user.email, user.password);
    await login(t, user.email, user.password);
    await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: NEW_PASSWORD },
      session.accessToken,
    );
    const events = await auditRows(t, 'user.password_changed');
    expect(events.find((event) => event.subjectId === user.id)).toMatchObject({
      actorId: user.id,
      data: { sessionsRevoked: 2 },
    });
  });
});
