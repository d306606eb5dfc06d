import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, loginAs, type TestUser } from '../helpers/users.js';
import {
  bearer,
  expectProblem,
  expectUnauthorized,
  GENEROUS_LIMITS,
  me,
  post,
  sessionIdOf,
  sessionRow,
} from './support.js';

/** Session routes refuse strangers, other users' sessions and malformed ids. */

let t: TestContext;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
  alice = await loginAs(t);
  bob = await loginAs(t);
});
afterAll(() => t.close());

const revoke = (id: string, token: string) =>
  t.app.inject({ method: 'DELETE', url: `/auth/sessions/${id}`, headers: bearer(token) });

describe('DELETE /auth/sessions/{id}', () => {
  it('another user’s session → 404, and that session lives on', async () => {
    const bobSession = sessionIdOf(bob.accessToken);
    expectProblem(await revoke(bobSession, alice.accessToken), 404, 'not_found');
    expect((await sessionRow(t, bobSession))?.revokedAt).toBeNull();
    expect((await me(t, bob.accessToken)).statusCode).toBe(200);
  });

  it('an id that is no session → 404', async () => {
    expectProblem(
      await revoke('0190a5c4-0000-7000-8000-000000000000', alice.accessToken),
      404,
      'not_found',
    );
  });

  it('a session already revoked → 404', async () => {
    const user = await createUser(t);
    const extra = await login(t, user.email, user.password);
    const other = await login(t, user.email, user.password);
    const sid = sessionIdOf(extra.accessToken);
    // Log the extra one out, then try to revoke it from another session of the same user.
    await post(t, '/auth/logout', undefined, extra.accessToken);
    expectProblem(await revoke(sid, other.accessToken), 404, 'not_found');
  });

  it.each([
    ['not a uuid', 'not-a-uuid'],
    ['a number', '12345'],
    ['a SQL payload', "1'%20or%20'1'='1"],
    ['a uuid with trailing junk', '0190a5c4-0000-7000-8000-000000000000x'],
  ])('a malformed id, %s → 400', async (_label, id) => {
    expectProblem(await revoke(id, alice.accessToken), 400, 'validation_failed');
  });
});

describe('without a valid bearer token → 401 with WWW-Authenticate', () => {
  it.each([
    ['GET', '/auth/sessions'],
    ['DELETE', `/auth/sessions/0190a5c4-0000-7000-8000-000000000000`],
    ['POST', '/auth/logout'],
    ['POST', '/auth/logout-all'],
  ] as const)('%s %s', async (method, url) => {
    expectUnauthorized(await t.app.inject({ method, url }));
    expectUnauthorized(
      await t.app.inject({ method, url, headers: { authorization: 'Bearer not.a.token' } }),
    );
  });

  it('a refresh token in place of the access token', async () => {
    expectUnauthorized(
      await t.app.inject({
        method: 'POST',
        url: '/auth/logout',
        headers: bearer(alice.refreshToken),
      }),
    );
    expect((await me(t, alice.accessToken)).statusCode).toBe(200);
  });
});
