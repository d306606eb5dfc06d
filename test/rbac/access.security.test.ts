import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { login, loginAs, type TestUser } from '../helpers/users.js';
import {
  adminApi,
  expectProblem,
  expectUnauthorized,
  rolesInDatabase,
  SEEDED_PERMISSIONS,
  send,
} from './support.js';

/**
 * Roles and the active flag are read from the database on every request: a grant, a revocation
 * or a disable takes effect on the very next request, whatever tokens the user already holds.
 */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

const adminUsers = (user: TestUser) =>
  send(t, { method: 'GET', url: '/admin/users', headers: user.headers });
const me = (user: TestUser) => send(t, { method: 'GET', url: '/users/me', headers: user.headers });

describe('a role granted or revoked changes what the same token may do, at once', () => {
  it('grant admin: 403 before, 200 on the next request with the same token', async () => {
    const user = await loginAs(t, ['homeowner']);
    expectProblem(await adminUsers(user), 403, 'forbidden');

    expect((await adminApi.grant(t, admin, user.id, 'admin')).statusCode).toBe(200);

    expect((await adminUsers(user)).statusCode).toBe(200);
    expect((await me(user)).json()).toMatchObject({
      roles: ['admin', 'homeowner'],
      permissions: SEEDED_PERMISSIONS.admin,
    });
  });

  it('revoke admin: the old token that could administer gets 403 on its next request', async () => {
    const user = await loginAs(t, ['admin']);
    expect((await adminUsers(user)).statusCode).toBe(200);

    expect((await adminApi.revoke(t, admin, user.id, 'admin')).statusCode).toBe(204);

    expectProblem(await adminUsers(user), 403, 'forbidden');
    expect((await me(user)).json()).toMatchObject({ roles: [], permissions: [] });
  });

  it('a lesser role works the same way: service_provider gained, then lost', async () => {
    const user = await loginAs(t, ['homeowner']);
    expect((await me(user)).json().permissions).not.toContain('services:write');
    await adminApi.grant(t, admin, user.id, 'service_provider');
    expect((await me(user)).json().permissions).toContain('services:write');
    await adminApi.revoke(t, admin, user.id, 'service_provider');
    expect((await me(user)).json().permissions).toEqual(SEEDED_PERMISSIONS.homeowner);
  });
});

describe('a disabled account is out at once, and back only through a new sign-in', () => {
  it('disable: every session 401, refresh 401, login 403 account_disabled; enable: login works', async () => {
    const user = await loginAs(t, ['homeowner']);
    const otherSession = await login(t, user.email, user.password);

    expect((await adminApi.setActive(t, admin, user.id, false)).statusCode).toBe(200);

    expectUnauthorized(await me(user));
    expectUnauthorized(await me(otherSession));
    const refresh = await send(t, {
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: user.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    const denied = await send(t, {
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expectProblem(denied, 403, 'account_disabled');

    expect((await adminApi.setActive(t, admin, user.id, true)).statusCode).toBe(200);

    const back = await login(t, user.email, user.password);
    expect((await me(back)).statusCode).toBe(200);
    // Disabling ended the old sessions for good; enabling does not bring them back.
    expectUnauthorized(await me(user));
    const staleRefresh = await send(t, {
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: otherSession.refreshToken },
    });
    expect(staleRefresh.statusCode).toBe(401);
  });

  it('a disabled admin loses every admin power on the next request', async () => {
    const other = await loginAs(t, ['admin']);
    expect((await adminUsers(other)).statusCode).toBe(200);
    expect((await adminApi.setActive(t, admin, other.id, false)).statusCode).toBe(200);
    expectUnauthorized(await adminUsers(other));
    expectUnauthorized(await adminApi.grant(t, other, other.id, 'homeowner'));
  });
});

describe('nobody raises their own privileges', () => {
  it.each([
    ['homeowner', ['homeowner']],
    ['service_provider', ['service_provider']],
    ['homeowner+service_provider', ['homeowner', 'service_provider']],
  ] as const)('a %s cannot grant themselves admin (403, roles unchanged)', async (_name, roles) => {
    const user = await loginAs(t, [...roles]);
    expectProblem(await adminApi.grant(t, user, user.id, 'admin'), 403, 'forbidden');
    expect(await rolesInDatabase(t, user.id)).toEqual([...roles].sort());
  });

  it('a user cannot re-enable themselves, nor write roles through their profile', async () => {
    const user = await loginAs(t, ['homeowner']);
    expectProblem(await adminApi.setActive(t, user, user.id, true), 403, 'forbidden');
    const sneaky = await send(t, {
      method: 'PATCH',
      url: '/users/me',
      headers: user.headers,
      payload: { fullName: 'Sneaky', roles: ['admin'] },
    });
    expectProblem(sneaky, 400, 'validation_failed');
    expect(await rolesInDatabase(t, user.id)).toEqual(['homeowner']);
  });
});
