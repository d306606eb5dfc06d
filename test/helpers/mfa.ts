import { Secret, TOTP } from 'otpauth';
import type { TestContext } from './app.js';
import { createUser, login, type TestUser } from './users.js';

/**
 * Two-factor sign-in as a user's phone does it: codes computed with an independent TOTP
 * implementation (the otpauth library directly, SHA-1, 6 digits, 30 s) at the app's clock.
 */
export function totpCode(secret: string, at: Date): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
    timestamp: at.getTime(),
  });
}

/**
 * A code of the next 30-second step: moves the app's clock on by one step first, so a code of a
 * step already spent (replay) is never what a test sends by accident.
 */
export function nextCode(t: TestContext, secret: string): string {
  t.clock.advance(30);
  return totpCode(secret, t.clock.now());
}

export interface MfaUser extends TestUser {
  secret: string;
  recoveryCodes: string[];
}

/** Enrols and confirms an authenticator for a signed-in user, through the API. */
export async function enrolMfa(t: TestContext, user: TestUser): Promise<MfaUser> {
  const enrol = await t.app.inject({
    method: 'POST',
    url: '/users/me/mfa/totp',
    headers: user.headers,
    payload: { password: user.password },
  });
  if (enrol.statusCode !== 200) throw new Error(`enrol: ${enrol.statusCode} ${enrol.body}`);
  const { secret } = enrol.json() as { secret: string };
  const confirm = await t.app.inject({
    method: 'POST',
    url: '/users/me/mfa/totp/confirm',
    headers: user.headers,
    payload: { code: nextCode(t, secret) },
  });
  if (confirm.statusCode !== 200) throw new Error(`confirm: ${confirm.statusCode} ${confirm.body}`);
  return { ...user, secret, recoveryCodes: confirm.json().recoveryCodes };
}

/** The password step of a user with MFA: the `challenge` of the 401 mfa_required. */
export async function passwordStep(t: TestContext, email: string, password: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
  });
  if (res.statusCode !== 401 || res.json().code !== 'mfa_required') {
    throw new Error(`expected mfa_required: ${res.statusCode} ${res.body}`);
  }
  return res.json().challenge as string;
}

/** Both steps of a sign-in with MFA; the tokens of a session at aal2. */
export async function signInWithMfa(t: TestContext, user: MfaUser): Promise<MfaUser> {
  const challenge = await passwordStep(t, user.email, user.password);
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/mfa/verify',
    payload: { challenge, code: nextCode(t, user.secret) },
  });
  if (res.statusCode !== 200) throw new Error(`verify: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return {
    ...user,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    headers: { authorization: `Bearer ${body.access_token}` },
  };
}

/** A signed-in user with roles and a confirmed authenticator, whose session is at aal2. */
export async function loginWithMfa(t: TestContext, roles: string[] = ['homeowner']) {
  const created = await createUser(t, roles);
  const session = await login(t, created.email, created.password);
  return enrolMfa(t, session);
}
