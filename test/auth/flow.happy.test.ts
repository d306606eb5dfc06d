import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { auditRows, refreshRows, sessionIdOf, sessionRow } from './support.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('the account lifecycle, end to end through HTTP and real mail', () => {
  const email = uniqueEmail('flow');
  let access = '';
  let refresh = '';

  it('registers with 202 and mails a verification link', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: {
        email: `  ${email.toUpperCase()} `,
        password: STRONG_PASSWORD,
        fullName: ' Jane Doe ',
        role: 'homeowner',
      },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toHaveProperty('message');
    const mail = await t.mailbox.next(email);
    expect(mail.subject).toMatch(/confirm your email/i);
    expect(mail.text).toContain('http://app.test/verify-email?token=');
  });

  it('refuses login before verification with 403 email_not_verified', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('email_not_verified');
  });

  it('verifies the email with the mailed token, once', async () => {
    const [mail] = t.mailbox.to(email);
    const token = tokenFrom(mail!);
    const first = await t.app.inject({
      method: 'POST',
      url: '/auth/verify-email',
      payload: { token },
    });
    expect(first.statusCode).toBe(200);
    const again = await t.app.inject({
      method: 'POST',
      url: '/auth/verify-email',
      payload: { token },
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('invalid_token');
  });

  it('logs in with JSON and returns an OAuth2 token pair', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    access = body.access_token;
    refresh = body.refresh_token;
  });

  it('shows the profile at /users/me', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      headers: { authorization: `Bearer ${access}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      email,
      fullName: 'Jane Doe',
      roles: ['homeowner'],
      permissions: [
        'bookings:read',
        'bookings:write',
        'catalog:read',
        'properties:read',
        'properties:write',
        'requests:read',
        'requests:write',
        'reviews:read',
        'reviews:write',
      ],
      emailVerified: true,
      isActive: true,
    });
  });

  it('rotates the refresh token, and a replayed one revokes the session', async () => {
    const first = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: refresh },
    });
    expect(first.statusCode).toBe(200);
    const rotated = first.json();
    const second = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: rotated.refresh_token },
    });
    expect(second.statusCode).toBe(200);
    const latest = second.json();

    const replay = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: refresh },
    });
    expect(replay.statusCode).toBe(401);
    const afterReplay = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: latest.refresh_token },
    });
    expect(afterReplay.statusCode).toBe(401);
    const me = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      headers: { authorization: `Bearer ${latest.access_token}` },
    });
    expect(me.statusCode).toBe(401);

    // The database agrees: one session, revoked for reuse, holding the three tokens of the chain.
    const sessionId = sessionIdOf(latest.access_token);
    expect(sessionIdOf(rotated.access_token)).toBe(sessionId);
    const session = await sessionRow(t, sessionId);
    expect(session?.revokedAt).toBeInstanceOf(Date);
    expect(session?.revokedReason).toBe('refresh_token_reuse');
    const chain = await refreshRows(t, sessionId);
    expect(chain).toHaveLength(3);
    const reuse = await auditRows(t, 'auth.refresh_reuse');
    expect(reuse.map((row) => row.data)).toContainEqual({ sessionId });
  });

  it('logs out: the access token stops working at once', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: new URLSearchParams({
        username: email,
        password: STRONG_PASSWORD,
        grant_type: 'password',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(login.statusCode).toBe(200);
    const headers = { authorization: `Bearer ${login.json().access_token}` };
    const out = await t.app.inject({ method: 'POST', url: '/auth/logout', headers });
    expect(out.statusCode).toBe(204);
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers });
    expect(me.statusCode).toBe(401);
    expect(me.headers['www-authenticate']).toBe('Bearer');
  });
});
