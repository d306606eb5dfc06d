import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserByEmail } from '../../src/modules/users/repository.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import {
  createUser,
  loginAs,
  STRONG_PASSWORD,
  type TestUser,
  uniqueEmail,
} from '../helpers/users.js';
import { adminApi, expectProblem, rolesInDatabase, send } from './support.js';

/** Role assignment with what does not exist or cannot be asked for. */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

describe('POST /admin/users/{id}/roles', () => {
  it('rejects a role that does not exist with 400, naming /body/role', async () => {
    const user = await createUser(t, ['homeowner']);
    const res = await adminApi.grant(t, admin, user.id, 'superuser');
    expectProblem(res, 400, 'validation_failed');
    expect(res.json().errors).toEqual([expect.objectContaining({ path: '/body/role' })]);
    expect(await rolesInDatabase(t, user.id)).toEqual(['homeowner']);
  });

  it.each([
    ['a role name in capitals', { role: 'ADMIN' }],
    ['an empty role name', { role: '' }],
    ['a role that is not a string', { role: ['admin'] }],
    ['no role at all', {}],
    ['an unknown field beside the role', { role: 'homeowner', userId: randomUUID() }],
  ])('rejects %s with 400', async (_case, payload) => {
    const user = await createUser(t, ['homeowner']);
    const res = await send(t, {
      method: 'POST',
      url: `/admin/users/${user.id}/roles`,
      headers: admin.headers,
      payload,
    });
    expectProblem(res, 400, 'validation_failed');
    expect(await rolesInDatabase(t, user.id)).toEqual(['homeowner']);
  });

  it('answers 404 not_found for an account that does not exist', async () => {
    expectProblem(await adminApi.grant(t, admin, randomUUID(), 'homeowner'), 404, 'not_found');
  });

  it('answers 400 for a malformed account id', async () => {
    expectProblem(await adminApi.grant(t, admin, 'abc', 'homeowner'), 400, 'validation_failed');
  });
});

describe('DELETE /admin/users/{id}/roles/{role}', () => {
  it('rejects a role that does not exist with 400, naming /params/role', async () => {
    const user = await createUser(t, ['homeowner']);
    const res = await adminApi.revoke(t, admin, user.id, 'superuser');
    expectProblem(res, 400, 'validation_failed');
    expect(res.json().errors).toEqual([expect.objectContaining({ path: '/params/role' })]);
  });

  it('rejects a role name that cannot be one with 400', async () => {
    const user = await createUser(t, ['homeowner']);
    expectProblem(
      await adminApi.revoke(t, admin, user.id, 'Home%20Owner'),
      400,
      'validation_failed',
    );
  });

  it('answers 404 not_found for an account that does not exist', async () => {
    expectProblem(await adminApi.revoke(t, admin, randomUUID(), 'homeowner'), 404, 'not_found');
  });
});

describe('POST /auth/register', () => {
  it('refuses to let anyone sign themselves up as admin (400, no account)', async () => {
    const email = uniqueEmail('wannabe');
    const res = await send(t, {
      method: 'POST',
      url: '/auth/register',
      payload: { email, password: STRONG_PASSWORD, fullName: 'Wannabe Admin', role: 'admin' },
    });
    expectProblem(res, 400, 'validation_failed');
    expect(await findUserByEmail(t.app.db, email)).toBeUndefined();
  });

  it('refuses a role list as well (one role, homeowner or service_provider)', async () => {
    const email = uniqueEmail('wannabe');
    const res = await send(t, {
      method: 'POST',
      url: '/auth/register',
      payload: {
        email,
        password: STRONG_PASSWORD,
        fullName: 'Wannabe Admin',
        role: 'homeowner',
        roles: ['admin'],
      },
    });
    expectProblem(res, 400, 'validation_failed');
    expect(await findUserByEmail(t.app.db, email)).toBeUndefined();
  });
});
