import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userRoles } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import {
  auditRows,
  GENEROUS_LIMITS,
  loginRequest,
  oneTimeRows,
  post,
  registerRequest,
  userRow,
} from './support.js';

/** POST /auth/register: 202, an unverified account, a verification mail. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('POST /auth/register', () => {
  it('answers 202 with a message and creates one unverified, active account', async () => {
    const email = uniqueEmail('new');
    const res = await registerRequest(t, { email, fullName: 'Ada Lovelace' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ message: expect.any(String) });

    const row = await userRow(t, email);
    expect(row).toMatchObject({
      email,
      fullName: 'Ada Lovelace',
      phone: null,
      emailVerified: false,
      isActive: true,
    });
    const roles = await t.app.db.select().from(userRoles).where(eq(userRoles.userId, row!.id));
    expect(roles.map((role) => role.roleName)).toEqual(['homeowner']);
  });

  it('stores the email trimmed and lower-cased, and the name trimmed', async () => {
    const email = uniqueEmail('case');
    const res = await registerRequest(t, {
      email: `  ${email.toUpperCase()}  `,
      fullName: '  Grace Hopper  ',
    });
    expect(res.statusCode).toBe(202);
    const row = await userRow(t, email);
    expect(row?.email).toBe(email);
    expect(row?.fullName).toBe('Grace Hopper');
  });

  it('signs up a service provider with that role', async () => {
    const email = uniqueEmail('provider');
    expect((await registerRequest(t, { email, role: 'service_provider' })).statusCode).toBe(202);
    const row = await userRow(t, email);
    const roles = await t.app.db.select().from(userRoles).where(eq(userRoles.userId, row!.id));
    expect(roles.map((role) => role.roleName)).toEqual(['service_provider']);
  });

  it('mails a verification link to PUBLIC_APP_URL/verify-email that verifies the account', async () => {
    const email = uniqueEmail('mail');
    await registerRequest(t, { email, fullName: 'Mail Reader' });
    const mail = await t.mailbox.next(email);
    expect(mail.subject).toMatch(/confirm your email/i);
    expect(mail.text).toMatch(/^Hello Mail Reader,/);
    expect(mail.text).toMatch(/http:\/\/app\.test\/verify-email\?token=[A-Za-z0-9_-]{43}\b/);
    expect(mail.html).toContain('http://app.test/verify-email?token=');

    const token = tokenFrom(mail);
    const verify = await post(t, '/auth/verify-email', { token });
    expect(verify.statusCode).toBe(200);
    expect((await userRow(t, email))?.emailVerified).toBe(true);
    expect((await loginRequest(t, email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('keeps one verification token, valid for 24 hours', async () => {
    const email = uniqueEmail('ttl');
    await registerRequest(t, { email });
    const row = await userRow(t, email);
    const tokens = await oneTimeRows(t, row!.id);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.purpose).toBe('verify_email');
    expect(tokens[0]!.expiresAt.getTime() - tokens[0]!.createdAt.getTime()).toBe(86_400_000);
  });

  it('records a user.registered audit event', async () => {
    const email = uniqueEmail('audit');
    await registerRequest(t, { email, role: 'service_provider' });
    const row = await userRow(t, email);
    const events = await auditRows(t, 'user.registered');
    expect(events.find((event) => event.subjectId === row!.id)).toMatchObject({
      actorId: row!.id,
      data: { role: 'service_provider' },
    });
  });
});
