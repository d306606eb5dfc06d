import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { auditEvents, mfaRecoveryCodes, mfaTotp } from '../../src/db/schema.js';
import { auditTypesOf, GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import {
  enrolMfa,
  loginWithMfa,
  nextCode,
  passwordStep,
  signInWithMfa,
  totpCode,
} from '../helpers/mfa.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs } from '../helpers/users.js';

const t = await createTestApp({ env: GENEROUS_LIMITS });
afterAll(() => t.close());

describe('enrolment', () => {
  it('returns a secret, its otpauth URI and a QR code in SVG; MFA is off until confirmed', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/mfa/totp',
      headers: jane.headers,
      payload: { password: jane.password },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(body.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(body.secret);
    expect(uri.searchParams.get('issuer')).toBe('Homefront');
    expect(decodeURIComponent(uri.pathname)).toContain(jane.email);
    expect(body.qrSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(body.qrSvg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // drawn here, nothing fetched

    const status = await t.app.inject({
      method: 'GET',
      url: '/users/me/mfa',
      headers: jane.headers,
    });
    expect(status.json()).toEqual({ totp: false, recoveryCodesLeft: 0 });
    // Not on yet: the password alone still signs in.
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: jane.email, password: jane.password },
    });
    expect(login.statusCode).toBe(200);
  });

  it('a code confirms it: 10 recovery codes, once; the secret is sealed and the codes hashed at rest', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    expect(jane.recoveryCodes).toHaveLength(10);
    expect(new Set(jane.recoveryCodes).size).toBe(10);
    for (const code of jane.recoveryCodes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);

    const [row] = await t.app.db.select().from(mfaTotp).where(eq(mfaTotp.userId, jane.id));
    expect(row?.confirmedAt).toBeInstanceOf(Date);
    expect(row?.secret).not.toContain(jane.secret);
    expect(row?.secret).toMatch(/^v1\./);
    const stored = await t.app.db
      .select({ hash: mfaRecoveryCodes.codeHash })
      .from(mfaRecoveryCodes)
      .where(eq(mfaRecoveryCodes.userId, jane.id));
    expect(stored).toHaveLength(10);
    const hashes = stored.map((r) => r.hash).join(' ');
    for (const code of jane.recoveryCodes) {
      expect(hashes).not.toContain(code);
      expect(hashes).not.toContain(code.replace('-', ''));
    }

    const status = await t.app.inject({
      method: 'GET',
      url: '/users/me/mfa',
      headers: jane.headers,
    });
    expect(status.json()).toEqual({ totp: true, recoveryCodesLeft: 10 });
    expect(await auditTypesOf(t, jane.id)).toEqual(
      expect.arrayContaining(['mfa.totp_enrolled', 'mfa.totp_confirmed']),
    );
  });

  it('confirming counts as step-up for the session that did it', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: jane.headers,
      payload: { password: 'wrong password here' },
    });
    expectProblem(res, 400, 'validation_failed'); // past the step-up guard, at the password
  });

  it('enrolling again while on is 409; a pending enrolment can be restarted', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const start = () =>
      t.app.inject({
        method: 'POST',
        url: '/users/me/mfa/totp',
        headers: jane.headers,
        payload: { password: jane.password },
      });
    const first = (await start()).json().secret;
    const second = (await start()).json().secret;
    expect(second).not.toBe(first);
    // Only the latest secret confirms.
    const stale = await t.app.inject({
      method: 'POST',
      url: '/users/me/mfa/totp/confirm',
      headers: jane.headers,
      payload: { code: nextCode(t, first) },
    });
    expectProblem(stale, 400, 'invalid_code');
    const ok = await t.app.inject({
      method: 'POST',
      url: '/users/me/mfa/totp/confirm',
      headers: jane.headers,
      payload: { code: nextCode(t, second) },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expectProblem(await start(), 409, 'conflict');
  });
});

describe('sign-in with MFA', () => {
  it('the password answers 401 mfa_required with a challenge; the code gives tokens at aal2', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: jane.email, password: jane.password },
    });
    const problem = expectProblem(login, 401, 'mfa_required') as unknown as {
      challenge: string;
      challengeExpiresIn: number;
    };
    expect(problem.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(problem.challengeExpiresIn).toBe(300);
    expect(login.json()).not.toHaveProperty('access_token');

    const verify = await t.app.inject({
      method: 'POST',
      url: '/auth/mfa/verify',
      payload: { challenge: problem.challenge, code: nextCode(t, jane.secret) },
    });
    expect(verify.statusCode, verify.body).toBe(200);
    const claims = decodeJwt(verify.json().access_token);
    expect(claims).toMatchObject({ aal: 2, amr: ['pwd', 'otp'] });
    expect(claims.aal2_at).toBe(Math.floor(t.clock.now().getTime() / 1000));
    const me = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      headers: { authorization: `Bearer ${verify.json().access_token}` },
    });
    expect(me.json().id).toBe(jane.id);
    expect(await auditTypesOf(t, jane.id)).toEqual(
      expect.arrayContaining(['auth.mfa_challenged', 'auth.login_succeeded']),
    );
  });

  it('the OAuth2 password form (Swagger UI) gets the same mfa_required problem', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'password',
        username: jane.email,
        password: jane.password,
      }).toString(),
    });
    expectProblem(res, 401, 'mfa_required');
    expect(res.json().challenge).toBeTypeOf('string');
  });

  it('a recovery code signs in once, and is burnt', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    const [code] = jane.recoveryCodes as [string];
    const use = async (recoveryCode: string) =>
      t.app.inject({
        method: 'POST',
        url: '/auth/mfa/verify',
        payload: { challenge: await passwordStep(t, jane.email, jane.password), recoveryCode },
      });
    const first = await use(code.toUpperCase()); // typed in capitals: still the code
    expect(first.statusCode, first.body).toBe(200);
    expect(decodeJwt(first.json().access_token)).toMatchObject({ aal: 2, amr: ['pwd', 'otp'] });
    expectProblem(await use(code), 401, 'invalid_credentials');
    const [row] = await t.app.db
      .select({ n: mfaRecoveryCodes.id })
      .from(mfaRecoveryCodes)
      .where(and(eq(mfaRecoveryCodes.userId, jane.id)));
    expect(row).toBeDefined();
    const status = await t.app.inject({
      method: 'GET',
      url: '/users/me/mfa',
      headers: jane.headers,
    });
    expect(status.json().recoveryCodesLeft).toBe(9);
    expect(await auditTypesOf(t, jane.id)).toContain('mfa.recovery_code_used');
  });

  it('a refresh keeps aal2', async () => {
    const jane = await signInWithMfa(t, await loginWithMfa(t, ['homeowner']));
    t.clock.advance(60);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: jane.refreshToken },
    });
    expect(decodeJwt(res.json().access_token)).toMatchObject({ aal: 2, amr: ['pwd', 'otp'] });
  });
});

describe('step-up', () => {
  it('a sensitive action after 10 minutes is 403 step_up_required; a code raises the session again', async () => {
    const jane = await signInWithMfa(t, await loginWithMfa(t, ['homeowner']));
    t.clock.advance(601);
    const change = () =>
      t.app.inject({
        method: 'POST',
        url: '/users/me/password',
        headers: jane.headers,
        payload: { currentPassword: jane.password, newPassword: 'a brand new passphrase 77' },
      });
    expectProblem(await change(), 403, 'step_up_required');

    const stepUp = await t.app.inject({
      method: 'POST',
      url: '/auth/step-up',
      headers: jane.headers,
      payload: { code: nextCode(t, jane.secret) },
    });
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    expect(stepUp.json()).toMatchObject({ token_type: 'bearer', aal: 2, amr: ['pwd', 'otp'] });
    expect(decodeJwt(stepUp.json().access_token)).toMatchObject({
      aal: 2,
      aal2_at: Math.floor(t.clock.now().getTime() / 1000),
    });
    // The session is raised: even the older access token now passes.
    expect((await change()).statusCode).toBe(204);
    expect(await auditTypesOf(t, jane.id)).toContain('auth.step_up');
  });

  it('a password-only session of an MFA user (amr pwd) steps up to ["pwd","otp"]', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const enrolled = await enrolMfa(t, jane);
    t.clock.advance(601);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/step-up',
      headers: enrolled.headers,
      payload: { recoveryCode: enrolled.recoveryCodes[3] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().amr).toEqual(['pwd', 'otp']);
  });
});

describe('recovery codes and turning MFA off', () => {
  it('regenerating needs the password and a code; the old codes stop working', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/mfa/recovery-codes',
      headers: jane.headers,
      payload: { password: jane.password, code: nextCode(t, jane.secret) },
    });
    expect(res.statusCode, res.body).toBe(200);
    const fresh = res.json().recoveryCodes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.some((code) => jane.recoveryCodes.includes(code))).toBe(false);
    const old = await t.app.inject({
      method: 'POST',
      url: '/auth/mfa/verify',
      payload: {
        challenge: await passwordStep(t, jane.email, jane.password),
        recoveryCode: jane.recoveryCodes[0],
      },
    });
    expectProblem(old, 401, 'invalid_credentials');
    expect(await auditTypesOf(t, jane.id)).toContain('mfa.recovery_codes_regenerated');
  });

  it('disabling needs the password and a code; then the password alone signs in', async () => {
    const jane = await loginWithMfa(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me/mfa/totp',
      headers: jane.headers,
      payload: { password: jane.password, code: nextCode(t, jane.secret) },
    });
    expect(res.statusCode, res.body).toBe(204);
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: jane.email, password: jane.password },
    });
    expect(login.statusCode).toBe(200);
    expect(
      await t.app.db.select().from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, jane.id)),
    ).toEqual([]);
    expect(await auditTypesOf(t, jane.id)).toContain('mfa.disabled');
  });
});

describe('admins', () => {
  it('see whether a user has MFA, never its secret', async () => {
    const admin = await loginAs(t, ['admin']);
    const jane = await loginWithMfa(t, ['homeowner']);
    const bob = await loginAs(t, ['homeowner']);
    const view = async (id: string) =>
      (
        await t.app.inject({ method: 'GET', url: `/admin/users/${id}`, headers: admin.headers })
      ).json();
    const janeView = await view(jane.id);
    expect(janeView.mfa).toEqual({ totp: true, passkeys: 0 });
    expect(JSON.stringify(janeView)).not.toContain(jane.secret);
    expect((await view(bob.id)).mfa).toEqual({ totp: false, passkeys: 0 });
  });

  it('reset a user’s MFA: audit event naming the admin, a mail to the user, password-only sign-in again', async () => {
    const admin = await loginAs(t, ['admin']);
    const jane = await loginWithMfa(t, ['homeowner']);
    const challenge = await passwordStep(t, jane.email, jane.password);
    const res = await t.app.inject({
      method: 'POST',
      url: `/admin/users/${jane.id}/mfa/reset`,
      headers: admin.headers,
    });
    expect(res.statusCode, res.body).toBe(204);
    const mail = await t.mailbox.next(jane.email);
    expect(mail.subject).toBe('Two-factor sign-in was reset');
    const [event] = await t.app.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.type, 'mfa.reset'), eq(auditEvents.subjectId, jane.id)));
    expect(event?.actorId).toBe(admin.id);
    // The challenge issued before the reset is void; the password alone signs in now.
    const stale = await t.app.inject({
      method: 'POST',
      url: '/auth/mfa/verify',
      payload: { challenge, code: totpCode(jane.secret, t.clock.now()) },
    });
    expectProblem(stale, 400, 'invalid_token');
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: jane.email, password: jane.password },
    });
    expect(login.statusCode).toBe(200);
    // Nothing left to reset.
    const again = await t.app.inject({
      method: 'POST',
      url: `/admin/users/${jane.id}/mfa/reset`,
      headers: admin.headers,
    });
    expectProblem(again, 409, 'invalid_state');
  });
});
