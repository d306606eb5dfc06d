import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { auditEvents, passkeys } from '../../src/db/schema.js';
import { auditTypesOf, GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { loginAs, STRONG_PASSWORD } from '../helpers/users.js';
import {
  newAuthenticator,
  ORIGIN,
  RP_ID,
  registerPasskey,
  registrationOptions,
  signInOptions,
  signInWithPasskey,
  WEBAUTHN_ENV,
} from '../helpers/webauthn.js';

const t = await createTestApp({ env: { ...GENEROUS_LIMITS, ...WEBAUTHN_ENV } });
afterAll(() => t.close());

describe('registering a passkey', () => {
  it('gives creation options for a discoverable credential with user verification, no attestation', async () => {
    const jane = await loginAs(t);
    const res = await registrationOptions(t, jane);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { publicKey } = res.json();
    expect(publicKey.rp).toEqual({ id: RP_ID, name: 'Homefront' });
    expect(publicKey.user.name).toBe(jane.email);
    // The user handle is the account's UUID bytes: no address in it.
    expect(Buffer.from(publicKey.user.id, 'base64url').toString('hex')).toBe(
      jane.id.replace(/-/g, ''),
    );
    expect(publicKey.challenge).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(publicKey.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      requireResidentKey: true,
      userVerification: 'required',
    });
    expect(publicKey.attestation).toBe('none');
    expect(publicKey.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toContain(-7);
    expect(publicKey.excludeCredentials).toEqual([]);
  });

  it('keeps the passkey under its name, lists it (no key), and excludes it next time', async () => {
    const jane = await loginAs(t);
    const { passkey, authenticator } = await registerPasskey(t, jane, undefined, ' Work laptop ');
    expect(passkey).toMatchObject({
      name: 'Work laptop',
      deviceType: 'singleDevice',
      backedUp: false,
      transports: ['internal'],
      lastUsedAt: null,
    });
    const list = await t.app.inject({
      method: 'GET',
      url: '/users/me/passkeys',
      headers: jane.headers,
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([passkey]);
    expect(list.body).not.toContain(authenticator.id);
    const again = await registrationOptions(t, jane);
    expect(again.json().publicKey.excludeCredentials).toEqual([
      { id: authenticator.id, type: 'public-key', transports: ['internal'] },
    ]);
    expect(await auditTypesOf(t, jane.id)).toContain('passkey.registered');
  });

  it('needs no password right after a passkey sign-in (a fresh aal2)', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const signedIn = await signInWithPasskey(t, authenticator);
    const headers = { authorization: `Bearer ${signedIn.json().access_token}` };
    const res = await registrationOptions(t, { headers });
    expect(res.statusCode, res.body).toBe(200);
  });
});

describe('signing in with a passkey', () => {
  it('names no user, and gives the token pair at aal2 with amr hwk', async () => {
    const jane = await loginAs(t);
    const { authenticator, passkey } = await registerPasskey(t, jane);
    const options = await signInOptions(t);
    expect(options.expiresIn).toBe(300);
    expect(options.publicKey).toMatchObject({ rpId: RP_ID, userVerification: 'required' });
    expect(options.publicKey.allowCredentials ?? []).toEqual([]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/passkey/verify',
      payload: {
        challengeId: options.challengeId,
        credential: authenticator.get(options.publicKey),
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const pair = res.json();
    expect(pair).toMatchObject({ token_type: 'bearer', refresh_token: expect.any(String) });
    const claims = decodeJwt(pair.access_token);
    expect(claims).toMatchObject({ aal: 2, amr: ['hwk'] });
    const me = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(jane.id);
    // The refresh keeps the level.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: pair.refresh_token },
    });
    expect(decodeJwt(refreshed.json().access_token)).toMatchObject({ aal: 2, amr: ['hwk'] });
    const [row] = await t.app.db.select().from(passkeys).where(eq(passkeys.id, passkey.id));
    expect(row?.counter).toBe(1);
    expect(row?.lastUsedAt).toBeInstanceOf(Date);
    const [succeeded] = await t.app.db
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(eq(auditEvents.type, 'auth.login_succeeded'))
      .orderBy(auditEvents.id)
      .then((rows) => rows.filter((r) => r.data.passkeyId === passkey.id));
    expect(succeeded?.data).toMatchObject({ method: 'passkey', amr: ['hwk'] });
  });

  it('accepts any of the configured origins, and an authenticator that keeps no counter', async () => {
    const jane = await loginAs(t);
    const still = newAuthenticator(false);
    await registerPasskey(t, jane, still);
    for (const origin of [ORIGIN, 'https://m.app.test']) {
      const { challengeId, publicKey } = await signInOptions(t);
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/passkey/verify',
        payload: { challengeId, credential: still.get(publicKey, { origin }) },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
  });

  it('counts as a fresh second factor for a sensitive action', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const pair = (await signInWithPasskey(t, authenticator)).json();
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/password',
      headers: { authorization: `Bearer ${pair.access_token}` },
      payload: { currentPassword: STRONG_PASSWORD, newPassword: 'an entirely new passphrase 77' },
    });
    expect(res.statusCode, res.body).toBe(204);
  });
});

describe('deleting', () => {
  it('a deleted passkey signs in no more', async () => {
    const jane = await loginAs(t);
    const { authenticator, passkey } = await registerPasskey(t, jane);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/users/me/passkeys/${passkey.id}`,
      headers: jane.headers,
    });
    expect(res.statusCode, res.body).toBe(204);
    expect((await signInWithPasskey(t, authenticator)).statusCode).toBe(401);
    expect(await auditTypesOf(t, jane.id)).toContain('passkey.deleted');
  });

  it('deleting the account deletes its passkeys', async () => {
    const jane = await loginAs(t);
    await registerPasskey(t, jane);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: jane.headers,
      payload: { password: jane.password },
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(await t.app.db.select().from(passkeys).where(eq(passkeys.userId, jane.id))).toEqual([]);
  });
});

describe('the admin view', () => {
  it('shows how many passkeys a user has, never the keys', async () => {
    const admin = await loginAs(t, ['admin']);
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    await registerPasskey(t, jane);
    const res = await t.app.inject({
      method: 'GET',
      url: `/admin/users/${jane.id}`,
      headers: admin.headers,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().mfa).toEqual({ totp: false, passkeys: 2 });
    expect(res.body).not.toContain(authenticator.id);
  });
});
