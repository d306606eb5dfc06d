import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { sendForm } from '../helpers/raw.js';
import { createUser, uniqueEmail } from '../helpers/users.js';
import {
  auditRows,
  expectProblem,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  post,
} from './support.js';

/** POST /auth/login refusals: 401 for bad credentials, 403 for the account's state only after the right password. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('bad credentials → 401 invalid_credentials with a WWW-Authenticate: Bearer challenge', () => {
  it('an unknown email', async () => {
    expectUnauthorized(
      await loginRequest(t, uniqueEmail('ghost'), 'whatever password'),
      'invalid_credentials',
    );
  });

  it('a wrong password', async () => {
    const user = await createUser(t);
    expectUnauthorized(await loginRequest(t, user.email, 'not my password'), 'invalid_credentials');
  });

  it('the right password in another case', async () => {
    const user = await createUser(t);
    expectUnauthorized(
      await loginRequest(t, user.email, user.password.toUpperCase()),
      'invalid_credentials',
    );
  });
});

describe('a disabled account', () => {
  it('with the correct password → 403 account_disabled', async () => {
    const user = await createUser(t, ['homeowner'], { isActive: false });
    expectProblem(await loginRequest(t, user.email, user.password), 403, 'account_disabled');
  });

  it('with a wrong password → 401 invalid_credentials', async () => {
    const user = await createUser(t, ['homeowner'], { isActive: false });
    expectUnauthorized(await loginRequest(t, user.email, 'not my password'), 'invalid_credentials');
  });

  it('disabled and unverified, with the correct password → 403 account_disabled', async () => {
    const user = await createUser(t, ['homeowner'], { isActive: false, emailVerified: false });
    expectProblem(await loginRequest(t, user.email, user.password), 403, 'account_disabled');
  });
});

describe('an unverified account', () => {
  it('with the correct password → 403 email_not_verified, and no session', async () => {
    const user = await createUser(t, ['homeowner'], { emailVerified: false });
    const res = await loginRequest(t, user.email, user.password);
    expectProblem(res, 403, 'email_not_verified');
    expect(res.json()).not.toHaveProperty('access_token');
  });

  it('with a wrong password → 401 invalid_credentials', async () => {
    const user = await createUser(t, ['homeowner'], { emailVerified: false });
    expectUnauthorized(await loginRequest(t, user.email, 'not my password'), 'invalid_credentials');
  });
});

describe('malformed requests → 400 validation_failed', () => {
  it.each([
    ['no password', { email: 'a@example.com' }],
    ['no email', { password: 'something long' }],
    ['an empty password', { email: 'a@example.com', password: '' }],
    ['an email without @', { email: 'not-an-email', password: 'something long' }],
    [
      'both email and username',
      { email: 'a@example.com', username: 'a@example.com', password: 'x' },
    ],
    ['an extra field', { email: 'a@example.com', password: 'something long', admin: true }],
    ['a password that is not a string', { email: 'a@example.com', password: ['x'] }],
  ])('%s', async (_label, body) => {
    expectProblem(await post(t, '/auth/login', body), 400, 'validation_failed');
  });

  it('a form with a grant_type other than password', async () => {
    const res = await sendForm(t.app, '/auth/login', {
      username: 'a@example.com',
      password: 'something long',
      grant_type: 'client_credentials',
    });
    expectProblem(res, 400, 'validation_failed');
  });
});

describe('every failure is audited with its reason', () => {
  it('unknown email, wrong password, disabled and unverified each leave an auth.login_failed row', async () => {
    const ghost = uniqueEmail('ghost');
    const wrong = await createUser(t);
    const disabled = await createUser(t, ['homeowner'], { isActive: false });
    const unverified = await createUser(t, ['homeowner'], { emailVerified: false });
    await loginRequest(t, ghost, 'whatever password');
    await loginRequest(t, wrong.email, 'not my password');
    await loginRequest(t, disabled.email, disabled.password);
    await loginRequest(t, unverified.email, unverified.password);

    const events = await auditRows(t, 'auth.login_failed');
    const reasonFor = (email: string) =>
      events.find((event) => (event.data as { email?: string }).email === email)?.data;
    expect(reasonFor(ghost)).toMatchObject({ reason: 'unknown_email' });
    expect(reasonFor(wrong.email)).toMatchObject({ reason: 'wrong_password' });
    expect(reasonFor(disabled.email)).toMatchObject({ reason: 'account_disabled' });
    expect(reasonFor(unverified.email)).toMatchObject({ reason: 'email_not_verified' });
    // The attempted password is never part of the trail.
    for (const event of events) expect(JSON.stringify(event)).not.toContain('not my password');
  });

  it('a failed or refused login starts no session', async () => {
    const wrong = await createUser(t);
    const unverified = await createUser(t, ['homeowner'], { emailVerified: false });
    await loginRequest(t, wrong.email, 'not my password');
    await loginRequest(t, unverified.email, unverified.password);
    for (const user of [wrong, unverified]) {
      const rows = await t.app.db.select().from(sessions).where(eq(sessions.userId, user.id));
      expect(rows).toHaveLength(0);
    }
  });
});
