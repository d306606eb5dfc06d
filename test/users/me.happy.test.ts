import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, expectUnauthorized, GENEROUS_LIMITS, me, userRow } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, type TestUser } from '../helpers/users.js';

/** GET, PUT and PATCH /users/me: the signed-in user's own profile. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

async function signedIn(roles = ['homeowner'], fullName = 'Pat Profile'): Promise<TestUser> {
  const user = await createUser(t, roles, { fullName });
  return login(t, user.email, user.password);
}

const update = (method: 'PUT' | 'PATCH', user: TestUser, payload: Record<string, unknown>) =>
  t.app.inject({ method, url: '/users/me', headers: user.headers, payload });

describe('GET /users/me', () => {
  it('returns the User resource, with roles and permissions as they are now', async () => {
    const user = await signedIn(['service_provider'], 'Sam Provider');
    const res = await me(t, user.accessToken);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'id',
        'email',
        'fullName',
        'phone',
        'roles',
        'permissions',
        'emailVerified',
        'isActive',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect(body).toMatchObject({
      id: user.id,
      email: user.email,
      fullName: 'Sam Provider',
      phone: null,
      roles: ['service_provider'],
      emailVerified: true,
      isActive: true,
    });
    expect(body.permissions).toContain('services:write');
    expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
  });

  it('needs a signed-in user', async () => {
    expectUnauthorized(await t.app.inject({ method: 'GET', url: '/users/me' }));
  });
});

describe('PUT /users/me', () => {
  it('sets fullName and phone, trimmed, and answers with the updated User', async () => {
    const user = await signedIn();
    const res = await update('PUT', user, {
      fullName: '  Pat  Newname ',
      phone: ' +1 (555) 010-0199 ',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: user.id,
      fullName: 'Pat  Newname',
      phone: '+1 (555) 010-0199',
    });
    const row = await userRow(t, user.email);
    expect(row).toMatchObject({ fullName: 'Pat  Newname', phone: '+1 (555) 010-0199' });
    expect((await me(t, user.accessToken)).json().fullName).toBe('Pat  Newname');
  });

  it('phone null clears it', async () => {
    const user = await signedIn();
    await update('PUT', user, { fullName: 'Pat', phone: '+44 20 7946 0000' });
    const res = await update('PUT', user, { fullName: 'Pat', phone: null });
    expect(res.statusCode).toBe(200);
    expect(res.json().phone).toBeNull();
    expect((await userRow(t, user.email))?.phone).toBeNull();
  });
});

describe('PATCH /users/me', () => {
  it('changes only the fields given', async () => {
    const user = await signedIn(['homeowner'], 'Original Name');
    const phoneOnly = await update('PATCH', user, { phone: '555-0100' });
    expect(phoneOnly.statusCode).toBe(200);
    expect(phoneOnly.json()).toMatchObject({ fullName: 'Original Name', phone: '555-0100' });

    const nameOnly = await update('PATCH', user, { fullName: ' Renamed ' });
    expect(nameOnly.statusCode).toBe(200);
    expect(nameOnly.json()).toMatchObject({ fullName: 'Renamed', phone: '555-0100' });
    expect(await userRow(t, user.email)).toMatchObject({ fullName: 'Renamed', phone: '555-0100' });
  });

  it('leaves email, roles and flags alone', async () => {
    const user = await signedIn();
    const before = await userRow(t, user.email);
    await update('PATCH', user, { fullName: 'Only The Name' });
    const after = await userRow(t, user.email);
    expect(after).toMatchObject({
      id: before!.id,
      email: before!.email,
      passwordHash: before!.passwordHash,
      emailVerified: before!.emailVerified,
      isActive: before!.isActive,
    });
  });
});

describe('the audit trail', () => {
  it('records user.profile_updated with the names of the fields sent, never their values', async () => {
    const user = await signedIn();
    const res = await update('PATCH', user, { phone: '+1 555 0100', fullName: 'Pat Audited' });
    expect(res.statusCode, res.body).toBe(200);
    const events = (await auditRows(t, 'user.profile_updated')).filter(
      (event) => event.subjectId === user.id,
    );
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({ actorId: user.id, subjectId: user.id });
    expect((event!.data as { fields: string[] }).fields.sort()).toEqual(['fullName', 'phone']);
    expect(JSON.stringify(event)).not.toContain('555 0100');
  });
});
