import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { sendForm } from '../helpers/raw.js';
import { createUser } from '../helpers/users.js';
import {
  auditRows,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  sessionIdOf,
  sessionRow,
} from './support.js';

/** POST /auth/login: JSON or the OAuth2 password form; an access JWT and an opaque refresh token. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('POST /auth/login', () => {
  it('JSON { email, password } → 200 with an OAuth2 token pair that works', async () => {
    const user = await createUser(t);
    const res = await loginRequest(t, user.email, user.password);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ]);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    expect((await me(t, body.access_token)).json().id).toBe(user.id);
  });

  it('the OAuth2 password form (username, grant_type, scope) → 200', async () => {
    const user = await createUser(t);
    const res = await sendForm(t.app, '/auth/login', {
      username: user.email,
      password: user.password,
      grant_type: 'password',
      scope: '',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().token_type).toBe('bearer');
  });

  it('compares the email case-insensitively and ignores surrounding spaces', async () => {
    const user = await createUser(t);
    const res = await loginRequest(t, `  ${user.email.toUpperCase()} `, user.password);
    expect(res.statusCode).toBe(200);
  });

  it('the access token is an HS256 at+jwt for this user and a new session, valid 15 minutes', async () => {
    const user = await createUser(t);
    const { access_token: token } = (await loginRequest(t, user.email, user.password)).json();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      sub: user.id,
      iss: 'homefront',
      aud: 'homefront-api',
      token_use: 'access',
    });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(claims.nbf).toBe(claims.iat);
    // A password sign-in: assurance level 1, by password (issue 18).
    expect(claims).toMatchObject({ aal: 1, amr: ['pwd'] });
    // No roles, no email, nothing that could go stale: they are read from the database.
    expect(Object.keys(claims).sort()).toEqual([
      'aal',
      'amr',
      'aud',
      'exp',
      'iat',
      'iss',
      'nbf',
      'sid',
      'sub',
      'token_use',
    ]);
    const session = await sessionRow(t, String(claims.sid));
    expect(session).toMatchObject({ userId: user.id, revokedAt: null });
  });

  it('the refresh token is opaque: 256 random bits, base64url, not a JWT', async () => {
    const user = await createUser(t);
    const { refresh_token: token } = (await loginRequest(t, user.email, user.password)).json();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('each login starts a session of its own, recording user agent and address', async () => {
    const user = await createUser(t);
    const first = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'user-agent': 'HomefrontTest/1.0' },
      payload: { email: user.email, password: user.password },
    });
    const second = await loginRequest(t, user.email, user.password);
    const a = sessionIdOf(first.json().access_token);
    const b = sessionIdOf(second.json().access_token);
    expect(a).not.toBe(b);
    expect(await sessionRow(t, a)).toMatchObject({
      userAgent: 'HomefrontTest/1.0',
      ip: '127.0.0.1',
    });
  });

  it('records auth.login_succeeded with the session id', async () => {
    const user = await createUser(t);
    const res = await loginRequest(t, user.email, user.password);
    const sid = sessionIdOf(res.json().access_token);
    const events = await auditRows(t, 'auth.login_succeeded');
    expect(events.find((event) => event.subjectId === user.id)).toMatchObject({
      actorId: user.id,
      ip: '127.0.0.1',
      requestId: res.headers['x-request-id'],
      data: { sessionId: sid },
    });
  });
});
