import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { mfaTotp, sessions } from '../../src/db/schema.js';
import { STEP_UP_MAX_AGE_SECONDS } from '../../src/kernel/guards.js';
import { raiseSessionAssurance } from '../../src/modules/auth/sessions.js';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { collectRoutes } from '../helpers/routes.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { CONTRACT } from '../protection/contract.js';

/**
 * Assurance levels (issue 18): access tokens and sessions carry `amr` and `aal`, refresh keeps
 * them, and every sensitive route (the contract's `stepUp` rows) refuses a user with a second
 * factor whose session has not proven it in the last 10 minutes.
 */

const { built: t, routes } = await collectRoutes(() => createTestApp({ noSmtp: true }));
afterAll(() => t.close());

/**
 * The sensitive actions issue 18 names, and how each asks for the second factor; the contract
 * table marks exactly these. `session`: the route's guard needs aal2 proven in the last 10
 * minutes. `proof`: the request carries the password and a current code itself (their refusals
 * are in test/mfa/totp.security.test.ts).
 */
const SENSITIVE_TABLE = {
  'POST /users/me/password': 'session',
  'DELETE /users/me': 'session',
  'POST /users/me/email': 'session',
  'POST /users/me/mfa/recovery-codes': 'proof',
  'DELETE /users/me/mfa/totp': 'proof',
  'PATCH /admin/users/{id}': 'session',
  'POST /admin/users/{id}/roles': 'session',
  'DELETE /admin/users/{id}/roles/{role}': 'session',
  'POST /admin/users/{id}/mfa/reset': 'session',
  'POST /admin/bookings/{id}/resolve': 'session',
  'POST /admin/reviews/{id}/hide': 'session',
  'DELETE /users/me/passkeys/{id}': 'session',
} as const;
const SENSITIVE = Object.entries(SENSITIVE_TABLE)
  .filter(([, how]) => how === 'session')
  .map(([key]) => key);

/** Gives the user a confirmed second factor (the enrolment flow has its own tests). */
async function giveMfa(user: { id: string }) {
  await t.app.db
    .insert(mfaTotp)
    .values({ userId: user.id, secret: 'sealed elsewhere', confirmedAt: t.clock.now() });
}

async function sessionOf(user: TestUser) {
  const { sid } = decodeJwt(user.accessToken) as { sid: string };
  const [row] = await t.app.db.select().from(sessions).where(eq(sessions.id, sid));
  if (!row) throw new Error('no session');
  return row;
}

/** The matrix's request for a route: random ids, `homeowner` for a role, `{}` as a body. */
function request(key: string, user: TestUser) {
  const [method, pattern] = key.split(' ') as [string, string];
  const url = pattern.replace('{role}', 'homeowner').replace(/\{[a-zA-Z]+\}/g, () => randomUUID());
  const hasBody = method !== 'GET' && method !== 'DELETE' ? true : key === 'DELETE /users/me';
  return t.app.inject({
    method: method as 'POST',
    url,
    headers: user.headers,
    ...(hasBody ? { payload: {} } : {}),
  });
}

describe('the access token and the session carry the assurance', () => {
  it('a password sign-in is aal1 with amr ["pwd"], in the token and on the session row', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const claims = decodeJwt(jane.accessToken);
    expect(claims).toMatchObject({ amr: ['pwd'], aal: 1 });
    expect(claims).not.toHaveProperty('aal2_at');
    expect(await sessionOf(jane)).toMatchObject({ aal: 1, amr: ['pwd'], aal2At: null });
  });

  it('a raised session keeps aal2, its methods and their time through refresh', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const session = await sessionOf(jane);
    const raisedAt = t.clock.now();
    await raiseSessionAssurance(t.app.db, session.id, 'otp', raisedAt);
    await raiseSessionAssurance(t.app.db, session.id, 'otp', raisedAt); // a method counts once
    t.clock.advance(120);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: jane.refreshToken },
    });
    expect(res.statusCode).toBe(200);
    expect(decodeJwt(res.json().access_token)).toMatchObject({
      amr: ['pwd', 'otp'],
      aal: 2,
      aal2_at: Math.floor(raisedAt.getTime() / 1000),
    });
    expect(await sessionOf(jane)).toMatchObject({ aal: 2, amr: ['pwd', 'otp'], aal2At: raisedAt });
  });

  it('a revoked session cannot be raised', async () => {
    const jane = await loginAs(t, ['homeowner']);
    await t.app.inject({ method: 'POST', url: '/auth/logout', headers: jane.headers });
    const { sid } = decodeJwt(jane.accessToken) as { sid: string };
    expect(await raiseSessionAssurance(t.app.db, sid, 'otp', t.clock.now())).toBeUndefined();
  });
});

describe('step-up: the table of sensitive actions', () => {
  it('the contract marks exactly the sensitive actions, and the routes declare exactly those', () => {
    const marked = Object.fromEntries(
      Object.entries(CONTRACT)
        .filter(([, row]) => row.stepUp)
        .map(([key, row]) => [key, row.stepUp]),
    );
    expect(marked).toEqual(SENSITIVE_TABLE);
    expect(routes.filter((route) => route.stepUp).map((route) => route.key)).toEqual(
      [...SENSITIVE].sort(),
    );
  });

  it('every admin write, and every write under /users/me/mfa but enrolment, is sensitive', () => {
    const writes = routes.filter((route) => route.method !== 'GET');
    const adminWrites = writes.filter((route) => route.url.startsWith('/admin/'));
    expect(adminWrites.length).toBeGreaterThan(3);
    for (const route of adminWrites) expect(route.stepUp, route.key).toBe(true);
    const mfaChanges = writes.filter(
      (route) =>
        route.url.startsWith('/users/me/mfa') &&
        !route.url.startsWith('/users/me/mfa/totp/confirm') &&
        !(route.method === 'POST' && route.url === '/users/me/mfa/totp'),
    );
    for (const route of mfaChanges) expect(CONTRACT[route.key]?.stepUp, route.key).toBeDefined();
  });

  it('the OpenAPI document says so on each sensitive operation', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { description: string; responses: object }>>;
    };
    for (const key of SENSITIVE) {
      const [method, path] = key.split(' ') as [string, string];
      const operation = doc.paths[path]?.[method.toLowerCase()];
      expect(operation?.description, key).toContain('step_up_required');
      expect(operation?.responses, key).toHaveProperty('403');
    }
  });

  describe.each(SENSITIVE)('%s', (key) => {
    const allowed = CONTRACT[key]?.allowed;

    it('a user with MFA signed in by password alone (aal1): 403 step_up_required', async () => {
      const admin = await loginAs(t, ['admin']);
      await giveMfa(admin);
      expectProblem(await request(key, admin), 403, 'step_up_required');
    });

    it('with aal2 proven just now: passes to the route (its contract status)', async () => {
      const admin = await loginAs(t, ['admin']);
      await giveMfa(admin);
      await raiseSessionAssurance(t.app.db, (await sessionOf(admin)).id, 'otp', t.clock.now());
      t.clock.advance(STEP_UP_MAX_AGE_SECONDS);
      expect((await request(key, admin)).statusCode).toBe(allowed);
    });

    it('with aal2 proven more than 10 minutes ago: 403 step_up_required again', async () => {
      const admin = await loginAs(t, ['admin']);
      await giveMfa(admin);
      await raiseSessionAssurance(t.app.db, (await sessionOf(admin)).id, 'otp', t.clock.now());
      t.clock.advance(STEP_UP_MAX_AGE_SECONDS + 1);
      expectProblem(await request(key, admin), 403, 'step_up_required');
    });

    it('a user without a second factor has nothing to step up with: passes', async () => {
      const admin = await loginAs(t, ['admin']);
      expect((await request(key, admin)).statusCode).toBe(allowed);
    });

    it('another user’s fresh aal2 does not count for this session', async () => {
      const admin = await loginAs(t, ['admin']);
      await giveMfa(admin);
      const other = await loginAs(t, ['admin']);
      await raiseSessionAssurance(t.app.db, (await sessionOf(other)).id, 'otp', t.clock.now());
      expectProblem(await request(key, admin), 403, 'step_up_required');
    });
  });

  it('a pending (unconfirmed) authenticator is not a second factor yet', async () => {
    const jane = await loginAs(t, ['homeowner']);
    await t.app.db.insert(mfaTotp).values({ userId: jane.id, secret: 'sealed elsewhere' });
    expect((await request('POST /users/me/password', jane)).statusCode).toBe(400);
  });
});
