import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { enrolMfa } from '../helpers/mfa.js';
import { expectProblem } from '../helpers/problems.js';
import { collectRoutes } from '../helpers/routes.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { CONTRACT, isOpen } from '../protection/contract.js';

/**
 * MFA_REQUIRED_ROLES=admin: an admin without a second factor can enrol, read /users/me and log
 * out; every other guarded route answers 403 mfa_enrollment_required until the enrolment is
 * confirmed. Other roles are not affected.
 */

const { built: t, routes } = await collectRoutes(() =>
  createTestApp({ noSmtp: true, env: { ...GENEROUS_LIMITS, MFA_REQUIRED_ROLES: 'admin' } }),
);
afterAll(() => t.close());

const OPEN_BEFORE_ENROLMENT = [
  'GET /users/me',
  'GET /users/me/mfa',
  'POST /auth/logout',
  'POST /users/me/mfa/totp',
  'POST /users/me/mfa/totp/confirm',
];

function send(key: string, user: TestUser) {
  const [method, pattern] = key.split(' ') as [string, string];
  const url = pattern.replace('{role}', 'homeowner').replace(/\{[a-zA-Z]+\}/g, () => randomUUID());
  return t.app.inject({
    method: method as 'POST',
    url,
    headers: user.headers,
    ...(method === 'GET' ? {} : { payload: {} }),
  });
}

const guarded = routes.filter((route) => {
  const row = CONTRACT[route.key];
  return row && !isOpen(row.access) && route.key !== 'POST /auth/logout';
});

describe('an admin who has not enrolled', () => {
  it('the routes that declare themselves open before enrolment are exactly these', () => {
    const declared = routes.filter((route) => route.beforeMfaEnrolment).map((route) => route.key);
    expect(declared.sort()).toEqual([...OPEN_BEFORE_ENROLMENT].sort());
  });

  it.each(guarded.map((route) => route.key).filter((key) => !OPEN_BEFORE_ENROLMENT.includes(key)))(
    '%s → 403 mfa_enrollment_required',
    async (key) => {
      const admin = await loginAs(t, ['admin']);
      expectProblem(await send(key, admin), 403, 'mfa_enrollment_required');
    },
  );

  it.each(OPEN_BEFORE_ENROLMENT.filter((key) => key !== 'POST /auth/logout'))(
    '%s is open',
    async (key) => {
      const admin = await loginAs(t, ['admin']);
      const res = await send(key, admin);
      expect(res.statusCode, res.body).toBe(CONTRACT[key]?.allowed);
    },
  );

  it('can log out', async () => {
    const admin = await loginAs(t, ['admin']);
    expect((await send('POST /auth/logout', admin)).statusCode).toBe(204);
  });

  it('once enrolled, the admin routes answer', async () => {
    const admin = await enrolMfa(t, await loginAs(t, ['admin']));
    const res = await t.app.inject({ method: 'GET', url: '/admin/users', headers: admin.headers });
    expect(res.statusCode, res.body).toBe(200);
    // Confirming was a proof of aal2: admin writes pass step-up for 10 minutes.
    const write = await send('PATCH /admin/users/{id}', admin);
    expect(write.statusCode).toBe(400);
  });

  it('a pending enrolment is not enough', async () => {
    const admin = await loginAs(t, ['admin']);
    await t.app.inject({
      method: 'POST',
      url: '/users/me/mfa/totp',
      headers: admin.headers,
      payload: { password: admin.password },
    });
    expectProblem(await send('GET /admin/users', admin), 403, 'mfa_enrollment_required');
  });
});

describe('roles not listed', () => {
  it('a homeowner without MFA uses the API as before', async () => {
    const jane = await loginAs(t, ['homeowner']);
    expect((await send('GET /homeowners/properties', jane)).statusCode).toBe(200);
  });

  it('a homeowner who is also an admin must enrol', async () => {
    const both = await loginAs(t, ['homeowner', 'admin']);
    expectProblem(await send('GET /homeowners/properties', both), 403, 'mfa_enrollment_required');
  });
});
