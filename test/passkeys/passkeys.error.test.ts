import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { testEnv } from '../helpers/config.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs } from '../helpers/users.js';
import {
  newAuthenticator,
  registerCredential,
  registerPasskey,
  registrationOptions,
  signInOptions,
  verify,
  WEBAUTHN_ENV,
} from '../helpers/webauthn.js';

const t = await createTestApp({ env: { ...GENEROUS_LIMITS, ...WEBAUTHN_ENV } });
afterAll(() => t.close());

describe('the WebAuthn settings', () => {
  const load = (env: Record<string, string>) => loadConfig(testEnv(env));

  it('defaults to localhost and this API’s own address, for development', () => {
    expect(load({ PORT: '3456' }).webauthn).toEqual({
      rpId: 'localhost',
      origins: ['http://localhost:3456'],
    });
  });

  it('takes an RP ID and the origins on it (subdomains included)', () => {
    const config = load({
      WEBAUTHN_RP_ID: 'example.com',
      WEBAUTHN_ORIGINS: 'https://example.com, https://app.example.com:8443/',
    });
    expect(config.webauthn).toEqual({
      rpId: 'example.com',
      origins: ['https://example.com', 'https://app.example.com:8443'],
    });
  });

  it.each([
    [{ WEBAUTHN_RP_ID: 'https://example.com' }, 'WEBAUTHN_RP_ID'],
    [{ WEBAUTHN_RP_ID: 'Example.com' }, 'WEBAUTHN_RP_ID'],
    [{ WEBAUTHN_RP_ID: 'com' }, 'WEBAUTHN_RP_ID'],
    [{ WEBAUTHN_RP_ID: '10.0.0.1', WEBAUTHN_ORIGINS: 'https://10.0.0.1' }, 'WEBAUTHN_RP_ID'],
    [{ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'http://example.com' }, 'WEBAUTHN_ORIGINS'],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.org' },
      'WEBAUTHN_ORIGINS',
    ],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://badexample.com' },
      'WEBAUTHN_ORIGINS',
    ],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.com/app' },
      'WEBAUTHN_ORIGINS',
    ],
    [{ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'example.com' }, 'WEBAUTHN_ORIGINS'],
    [{ WEBAUTHN_ORIGINS: 'http://localhost:3000,https://app.test' }, 'WEBAUTHN_ORIGINS'],
  ])('refuses %o at start, naming %s', (env, variable) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(new RegExp(`^${variable}:`));
  });
});

describe('registration requests', () => {
  it('without the password and without a fresh second factor: 400 naming the field', async () => {
    const jane = await loginAs(t);
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/passkeys/options',
      headers: jane.headers,
      payload: {},
    });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors).toEqual([expect.objectContaining({ path: '/body/password' })]);
  });

  it('a wrong password: 400', async () => {
    const jane = await loginAs(t);
    const res = await registrationOptions(t, jane, { password: 'not the password at all' });
    expectProblem(res, 400, 'validation_failed');
  });

  it('without a session: 401', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/passkeys/options',
      payload: { password: 'x' },
    });
    expectProblem(res, 401, 'unauthorized');
  });

  it.each([
    ['no name', (credential: object) => ({ credential })],
    ['an empty name', (credential: object) => ({ name: '  ', credential })],
    ['a name with a newline', (credential: object) => ({ name: 'a\nb', credential })],
    ['a name too long', (credential: object) => ({ name: 'x'.repeat(65), credential })],
    ['no credential', () => ({ name: 'Key' })],
    [
      'a credential that is not base64url',
      (credential: { response: object }) => ({
        name: 'Key',
        credential: { ...credential, response: { ...credential.response, clientDataJSON: '!!' } },
      }),
    ],
    [
      'a credential of another type',
      (credential: object) => ({ name: 'Key', credential: { ...credential, type: 'password' } }),
    ],
    ['an extra field', (credential: object) => ({ name: 'Key', credential, userId: 'someone' })],
  ])('%s: 400 validation_failed', async (_label, body) => {
    const jane = await loginAs(t);
    const options = (await registrationOptions(t, jane)).json().publicKey;
    const credential = newAuthenticator().create(options);
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/passkeys',
      headers: jane.headers,
      payload: body(credential as never),
    });
    expectProblem(res, 400, 'validation_failed');
  });

  it('client data that is not JSON answers no challenge: 400 invalid_token', async () => {
    const jane = await loginAs(t);
    const options = (await registrationOptions(t, jane)).json().publicKey;
    const credential = newAuthenticator().create(options);
    credential.response.clientDataJSON = Buffer.from('not json').toString('base64url');
    expectProblem(await registerCredential(t, jane, credential), 400, 'invalid_token');
  });

  it('an attestation object that is not CBOR: 400, and the challenge is spent', async () => {
    const jane = await loginAs(t);
    const options = (await registrationOptions(t, jane)).json().publicKey;
    const authenticator = newAuthenticator();
    const credential = authenticator.create(options);
    credential.response.attestationObject = Buffer.from('garbage').toString('base64url');
    expectProblem(await registerCredential(t, jane, credential), 400, 'validation_failed');
    expectProblem(
      await registerCredential(t, jane, authenticator.create(options)),
      400,
      'invalid_token',
    );
  });

  it('the eleventh passkey: 409', async () => {
    const jane = await loginAs(t);
    for (let index = 0; index < 10; index++) await registerPasskey(t, jane);
    expectProblem(await registrationOptions(t, jane), 409, 'conflict');
  });

  it('deleting a passkey that does not exist: 404; a malformed id: 400', async () => {
    const jane = await loginAs(t);
    const missing = await t.app.inject({
      method: 'DELETE',
      url: '/users/me/passkeys/01900000-0000-7000-8000-000000000000',
      headers: jane.headers,
    });
    expectProblem(missing, 404, 'not_found');
    const malformed = await t.app.inject({
      method: 'DELETE',
      url: '/users/me/passkeys/nope',
      headers: jane.headers,
    });
    expectProblem(malformed, 400, 'validation_failed');
  });
});

describe('sign-in requests', () => {
  it('an unknown challenge id: 400 invalid_token', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const { publicKey } = await signInOptions(t);
    const res = await verify(
      t,
      '01900000-0000-7000-8000-000000000000',
      authenticator.get(publicKey),
    );
    expectProblem(res, 400, 'invalid_token');
  });

  it('an unknown passkey: 401 invalid_credentials', async () => {
    const { challengeId, publicKey } = await signInOptions(t);
    const stranger = newAuthenticator();
    stranger.userHandle = 'AAAAAAAAAAAAAAAAAAAAAA';
    expectProblem(
      await verify(t, challengeId, stranger.get(publicKey)),
      401,
      'invalid_credentials',
    );
  });

  it.each([
    ['no challenge id', { credential: {} }],
    ['a challenge id that is no UUID', { challengeId: 'abc', credential: {} }],
    ['no credential', { challengeId: '01900000-0000-7000-8000-000000000000' }],
    [
      'a credential without a signature',
      {
        challengeId: '01900000-0000-7000-8000-000000000000',
        credential: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA' },
        },
      },
    ],
  ])('%s: 400 validation_failed', async (_label, payload) => {
    const res = await t.app.inject({ method: 'POST', url: '/auth/passkey/verify', payload });
    expectProblem(res, 400, 'validation_failed');
  });
});
