import { expect } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import { SoftAuthenticator } from '../helpers/webauthn.js';

/** The relying party every passkeys test app is configured as. */
export const RP_ID = 'app.test';
export const ORIGIN = 'https://app.test';
export const WEBAUTHN_ENV = {
  WEBAUTHN_RP_ID: RP_ID,
  WEBAUTHN_ORIGINS: `${ORIGIN},https://m.app.test`,
};

export const newAuthenticator = (counts = true) => new SoftAuthenticator(RP_ID, ORIGIN, counts);

export async function registrationOptions(t: TestContext, user: TestUser, body: object = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/users/me/passkeys/options',
    headers: user.headers,
    payload: { password: user.password, ...body },
  });
}

/** Registers a passkey held by `authenticator` to `user`, through the API. */
export async function registerPasskey(
  t: TestContext,
  user: TestUser,
  authenticator = newAuthenticator(),
  name = 'Laptop',
) {
  const options = await registrationOptions(t, user);
  expect(options.statusCode, options.body).toBe(200);
  const res = await t.app.inject({
    method: 'POST',
    url: '/users/me/passkeys',
    headers: user.headers,
    payload: { name, credential: authenticator.create(options.json().publicKey) },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { authenticator, passkey: res.json() as { id: string; name: string } };
}

export async function signInOptions(t: TestContext) {
  const res = await t.app.inject({ method: 'POST', url: '/auth/passkey/options' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    challengeId: string;
    expiresIn: number;
    publicKey: { challenge: string; allowCredentials?: unknown[] };
  };
}

export function verify(t: TestContext, challengeId: string, credential: unknown, headers = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/auth/passkey/verify',
    headers,
    payload: { challengeId, credential },
  });
}

/** A whole passkey sign-in: options, the authenticator's assertion, verify. */
export async function signInWithPasskey(t: TestContext, authenticator: SoftAuthenticator) {
  const { challengeId, publicKey } = await signInOptions(t);
  return verify(t, challengeId, authenticator.get(publicKey));
}
