import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, loginAs, type TestUser } from '../helpers/users.js';
import { adminApi, auditRows, rolesInDatabase, SEEDED_PERMISSIONS, send } from './support.js';

/** GET /admin/roles, POST and DELETE /admin/users/{id}/roles: roles are data, granted by admins. */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

describe('GET /admin/roles', () => {
  it('lists each role with exactly the permissions the seed grants it', async () => {
    const res = await send(t, { method: 'GET', url: '/admin/roles', headers: admin.headers });
    expect(res.statusCode).toBe(200);
    const roles = (
      res.json() as Array<{ name: string; description: string; permissions: string[] }>
    )
      .map((role) => ({ ...role, permissions: [...role.permissions].sort() }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(roles).toEqual([
      {
        name: 'admin',
        description: expect.any(String),
        permissions: SEEDED_PERMISSIONS.admin,
      },
      {
        name: 'homeowner',
        description: expect.any(String),
        permissions: SEEDED_PERMISSIONS.homeowner,
      },
      {
        name: 'service_provider',
        description: expect.any(String),
        permissions: SEEDED_PERMISSIONS.service_provider,
      },
    ]);
    expect(SEEDED_PERMISSIONS.admin).toHaveLength(19);
    for (const role of roles) expect(role.description.trim()).not.toBe('');
  });
});

describe('POST /admin/users/{id}/roles', () => {
  it('grants a role and answers the User with the role’s permissions added', async () => {
    const user = await createUser(t, ['homeowner']);
    const res = await adminApi.grant(t, admin, user.id, 'service_provider');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: user.id,
      roles: ['homeowner', 'service_provider'],
      permissions: [
        ...new Set([...SEEDED_PERMISSIONS.homeowner, ...SEEDED_PERMISSIONS.service_provider]),
      ].sort(),
    });
    expect(await rolesInDatabase(t, user.id)).toEqual(['homeowner', 'service_provider']);
  });

  it('is idempotent: granting twice answers 200 both times, one row, one audit event', async () => {
    const user = await createUser(t, ['homeowner']);
    const first = await adminApi.grant(t, admin, user.id, 'service_provider');
    const second = await adminApi.grant(t, admin, user.id, 'service_provider');
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(second.json()).toEqual(first.json());
    expect(await rolesInDatabase(t, user.id)).toEqual(['homeowner', 'service_provider']);
    expect(await auditRows(t, 'role.granted', user.id)).toHaveLength(1);
  });

  it('lets an admin make another admin, who can then administer', async () => {
    const user = await createUser(t, ['service_provider']);
    const res = await adminApi.grant(t, admin, user.id, 'admin');
    expect(res.statusCode).toBe(200);
    expect(res.json().permissions).toEqual(SEEDED_PERMISSIONS.admin);

    const promoted = await login(t, user.email, user.password);
    const list = await send(t, { method: 'GET', url: '/admin/users', headers: promoted.headers });
    expect(list.statusCode).toBe(200);
  });

  it('grants a first role to an account that had none', async () => {
    const user = await createUser(t, []);
    const res = await adminApi.grant(t, admin, user.id, 'homeowner');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      roles: ['homeowner'],
      permissions: SEEDED_PERMISSIONS.homeowner,
    });
  });
});

describe('DELETE /admin/users/{id}/roles/{role}', () => {
  it('revokes a role with 204 and no body', async () => {
    const user = await createUser(t, ['homeowner', 'service_provider']);
    const res = await adminApi.revoke(t, admin, user.id, 'homeowner');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await rolesInDatabase(t, user.id)).toEqual(['service_provider']);

    const view = await send(t, {
      method: 'GET',
      url: `/admin/users/${user.id}`,
      headers: admin.headers,
    });
    expect(view.json()).toMatchObject({
      roles: ['service_provider'],
      permissions: SEEDED_PERMISSIONS.service_provider,
    });
  });

  it('answers 204 for a role the user does not hold, and records nothing', async () => {
    const user = await createUser(t, ['homeowner']);
    const res = await adminApi.revoke(t, admin, user.id, 'service_provider');
    expect(res.statusCode).toBe(204);
    expect(await rolesInDatabase(t, user.id)).toEqual(['homeowner']);
    expect(await auditRows(t, 'role.revoked', user.id)).toEqual([]);
  });

  it('can leave an account with no role at all', async () => {
    const user = await createUser(t, ['homeowner']);
    expect((await adminApi.revoke(t, admin, user.id, 'homeowner')).statusCode).toBe(204);
    expect(await rolesInDatabase(t, user.id)).toEqual([]);
  });

  it('removes admin from one of several admins', async () => {
    const other = await createUser(t, ['admin']);
    expect((await adminApi.revoke(t, admin, other.id, 'admin')).statusCode).toBe(204);
    expect(await rolesInDatabase(t, other.id)).toEqual([]);
  });
});
