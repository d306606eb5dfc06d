import { createDecipheriv, hkdfSync } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { mfaChallenges, mfaRecoveryCodes, mfaTotp } from '../../src/db/schema.js';
import { TotpSecretSealer } from '../../src/modules/mfa/secrets.js';
import { auditRows, GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import {
  enrolMfa,
  loginWithMfa,
  type MfaUser,
  nextCode,
  passwordStep,
  signInWithMfa,
  totpCode,
} from '../helpers/mfa.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs } from '../helpers/users.js';
import {
  changeLinks,
  mailTo,
  REVERTED_SUBJECT,
  revertChange,
} from '../users/email-change.support.js';

/** SECURITY.md "MFA bypass and replay": single-use codes and challenges, drift, throttles, keys. */

const MFA_KEY = 'mfa-key-of-this-test-file-at-least-32-bytes';
const t = await createTestApp({
  env: { ...GENEROUS_LIMITS, RATE_LIMIT_LOGIN_FAILURES: '8', MFA_ENCRYPTION_KEY: MFA_KEY },
});
afterAll(() => t.close());

const verify = (payload: object) =>
  t.app.inject({ method: 'POST', url: '/auth/mfa/verify', payload });
const stepUp = (user: MfaUser, payload: object) =>
  t.app.inject({ method: 'POST', url: '/auth/step-up', headers: user.headers, payload });

/** A code of a step the user's authenticator shows `steps` steps from now. */
const codeIn = (user: MfaUser, steps: number) =>
  totpCode(user.secret, new Date(t.clock.now().getTime() + steps * 30_000));

describe('codes', () => {
  it('a code is accepted once: replaying it within its window is refused', async () => {
    const jane = await loginWithMfa(t);
    const code = nextCode(t, jane.secret);
    const first = await verify({
      challenge: await passwordStep(t, jane.email, jane.password),
      code,
    });
    expect(first.statusCode, first.body).toBe(200);
    const replay = await verify({
      challenge: await passwordStep(t, jane.email, jane.password),
      code,
    });
    expectProblem(replay, 401, 'invalid_credentials');
    // …and on step-up too, within the same 30 s.
    expectProblem(await stepUp(jane, { code }), 400, 'invalid_code');
  });

  it('a code of an earlier step than one used is refused (no going back within the window)', async () => {
    const jane = await loginWithMfa(t);
    t.clock.advance(90); // steps the enrolment spent are behind; the previous one is unused
    const previous = codeIn(jane, -1);
    const current = codeIn(jane, 0);
    expect((await stepUp(jane, { code: current })).statusCode).toBe(200);
    expectProblem(await stepUp(jane, { code: previous }), 400, 'invalid_code');
  });

  it.each([
    [-1, 200],
    [1, 200],
    [-2, 400],
    [2, 400],
  ])('a code %i step(s) off the server clock → %i', async (steps, status) => {
    const jane = await loginWithMfa(t);
    t.clock.advance(90); // past every step the enrolment spent
    const res = await stepUp(jane, { code: codeIn(jane, steps) });
    expect(res.statusCode, res.body).toBe(status);
  });

  it('two concurrent sign-ins with one code: exactly one gets tokens', async () => {
    const jane = await loginWithMfa(t);
    const code = nextCode(t, jane.secret);
    const challenges = [
      await passwordStep(t, jane.email, jane.password),
      await passwordStep(t, jane.email, jane.password),
    ];
    const answers = await Promise.all(challenges.map((challenge) => verify({ challenge, code })));
    expect(answers.map((res) => res.statusCode).sort()).toEqual([200, 401]);
  });
});

describe('challenges', () => {
  it('work once', async () => {
    const jane = await loginWithMfa(t);
    const challenge = await passwordStep(t, jane.email, jane.password);
    expect((await verify({ challenge, code: nextCode(t, jane.secret) })).statusCode).toBe(200);
    expectProblem(
      await verify({ challenge, code: nextCode(t, jane.secret) }),
      400,
      'invalid_token',
    );
  });

  it('expire after 5 minutes', async () => {
    const jane = await loginWithMfa(t);
    const challenge = await passwordStep(t, jane.email, jane.password);
    t.clock.advance(301);
    expectProblem(
      await verify({ challenge, code: totpCode(jane.secret, t.clock.now()) }),
      400,
      'invalid_token',
    );
  });

  it('the fifth wrong code voids the challenge, even for the right code after it', async () => {
    const jane = await loginWithMfa(t);
    const challenge = await passwordStep(t, jane.email, jane.password);
    const wrong = codeIn(jane, 5);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expectProblem(await verify({ challenge, code: wrong }), 401, 'invalid_credentials');
    }
    expectProblem(
      await verify({ challenge, code: nextCode(t, jane.secret) }),
      400,
      'invalid_token',
    );
  });

  it('an unknown challenge is refused before any code is checked', async () => {
    expectProblem(
      await verify({ challenge: 'A'.repeat(43), code: '123456' }),
      400,
      'invalid_token',
    );
  });

  it('are stored as hashes only', async () => {
    const jane = await loginWithMfa(t);
    const challenge = await passwordStep(t, jane.email, jane.password);
    const rows = await t.app.db
      .select({ hash: mfaChallenges.tokenHash })
      .from(mfaChallenges)
      .where(eq(mfaChallenges.userId, jane.id));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.hash).not.toBe(challenge);
  });

  it('a disabled account cannot finish a sign-in begun before', async () => {
    const admin = await loginAs(t, ['admin']);
    const jane = await loginWithMfa(t);
    const challenge = await passwordStep(t, jane.email, jane.password);
    await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${jane.id}`,
      headers: admin.headers,
      payload: { isActive: false },
    });
    expectProblem(
      await verify({ challenge, code: nextCode(t, jane.secret) }),
      400,
      'invalid_token',
    );
  });
});

describe('a sign-in challenge dies with its reason (SECURITY.md: one-time tokens outliving their reason)', () => {
  it('a password change voids the challenges issued before it', async () => {
    const jane = await signInWithMfa(t, await loginWithMfa(t));
    const challenge = await passwordStep(t, jane.email, jane.password);
    const change = await t.app.inject({
      method: 'POST',
      url: '/users/me/password',
      headers: jane.headers,
      payload: { currentPassword: jane.password, newPassword: 'a completely new passphrase 5' },
    });
    expect(change.statusCode, change.body).toBe(204);
    expectProblem(
      await verify({ challenge, code: nextCode(t, jane.secret) }),
      400,
      'invalid_token',
    );
  });

  it('disabling the account voids them, and they stay void after it is enabled again', async () => {
    const admin = await loginAs(t, ['admin']);
    const jane = await loginWithMfa(t);
    const challenge = await passwordStep(t, jane.email, jane.password);
    for (const isActive of [false, true]) {
      await t.app.inject({
        method: 'PATCH',
        url: `/admin/users/${jane.id}`,
        headers: admin.headers,
        payload: { isActive },
      });
    }
    expectProblem(
      await verify({ challenge, code: nextCode(t, jane.secret) }),
      400,
      'invalid_token',
    );
  });
});

describe('throttling wrong codes per account, like failed logins', () => {
  it('past RATE_LIMIT_LOGIN_FAILURES wrong codes across challenges: 429, even for the right code', async () => {
    const jane = await loginWithMfa(t);
    const wrong = codeIn(jane, 7);
    for (let attempt = 1; attempt <= 8; attempt++) {
      // a new challenge every 4 wrong codes, so the per-challenge limit is not what stops it
      const challenge = await passwordStep(t, jane.email, jane.password);
      const res = await verify({ challenge, code: wrong });
      expectProblem(res, 401, 'invalid_credentials');
    }
    const challenge = await passwordStep(t, jane.email, jane.password);
    expectProblem(await verify({ challenge, code: nextCode(t, jane.secret) }), 429, 'rate_limited');
  });

  it('wrong step-up codes count too', async () => {
    const jane = await signInWithMfa(t, await loginWithMfa(t));
    const wrong = codeIn(jane, 9);
    for (let attempt = 1; attempt <= 8; attempt++) {
      expectProblem(await stepUp(jane, { code: wrong }), 400, 'invalid_code');
    }
    expectProblem(await stepUp(jane, { code: nextCode(t, jane.secret) }), 429, 'rate_limited');
  });
});

describe('changing MFA needs the password and a current code', () => {
  it.each([
    ['DELETE', '/users/me/mfa/totp'],
    ['POST', '/users/me/mfa/recovery-codes'],
  ] as const)(
    '%s %s: a wrong password (validation_failed) or code (invalid_code) is 400, nothing changes',
    async (method, url) => {
      const jane = await loginWithMfa(t);
      const send = (payload: object) =>
        t.app.inject({ method, url, headers: jane.headers, payload });
      expectProblem(
        await send({ password: 'not the password at all', code: nextCode(t, jane.secret) }),
        400,
        'validation_failed',
      );
      expectProblem(
        await send({ password: jane.password, code: codeIn(jane, 4) }),
        400,
        'invalid_code',
      );
      expectProblem(await send({ password: jane.password }), 400, 'validation_failed');
      const [row] = await t.app.db.select().from(mfaTotp).where(eq(mfaTotp.userId, jane.id));
      expect(row?.confirmedAt).toBeInstanceOf(Date);
    },
  );

  it('step-up and the changes are 409 for a user without MFA', async () => {
    const bob = await loginAs(t, ['homeowner']);
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/auth/step-up',
        headers: bob.headers,
        payload: { code: '123456' },
      }),
      409,
      'invalid_state',
    );
  });

  it('a pending enrolment is no second factor: login is unchanged, verify refuses', async () => {
    const bob = await loginAs(t, ['homeowner']);
    await t.app.inject({
      method: 'POST',
      url: '/users/me/mfa/totp',
      headers: bob.headers,
      payload: { password: bob.password },
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: bob.email, password: bob.password },
    });
    expect(res.statusCode).toBe(200);
  });

  it('enrolment needs the right password', async () => {
    const bob = await loginAs(t, ['homeowner']);
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/users/me/mfa/totp',
        headers: bob.headers,
        payload: { password: 'not the password at all' },
      }),
      400,
      'validation_failed',
    );
  });
});

describe('the secret at rest', () => {
  const keyFrom = (secret: string) =>
    Buffer.from(hkdfSync('sha256', secret, 'homefront', 'mfa-totp-secret-v1', 32));
  const open = (key: Buffer, userId: string, sealed: string) => {
    const [, iv, tag, body] = sealed.split('.') as [string, string, string, string];
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(userId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString();
  };

  it('is AES-256-GCM under a key from MFA_ENCRYPTION_KEY, and JWT_SECRET does not open it', async () => {
    const jane = await loginWithMfa(t);
    const [row] = await t.app.db.select().from(mfaTotp).where(eq(mfaTotp.userId, jane.id));
    const sealed = row?.secret ?? '';
    expect(open(keyFrom(MFA_KEY), jane.id, sealed)).toBe(jane.secret);
    expect(() => open(keyFrom(t.config.jwtSecret), jane.id, sealed)).toThrow();
    expect(t.config.mfaEncryptionKey).toBe(MFA_KEY);
    expect(t.config.mfaEncryptionKey).not.toBe(t.config.jwtSecret);
  });

  it('is bound to its user: a secret copied onto another user’s row does not open', async () => {
    const jane = await loginWithMfa(t);
    const sealer = new TotpSecretSealer(MFA_KEY);
    const sealed = sealer.seal(jane.id, 'JBSWY3DPEHPK3PXP');
    expect(sealer.open(jane.id, sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(() => sealer.open('00000000-0000-7000-8000-000000000000', sealed)).toThrow();
    // Tampering with any byte is detected.
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
    expect(() => sealer.open(jane.id, flipped)).toThrow();
  });
});

describe('the “this wasn’t me” revert of an email change', () => {
  it('removes an authenticator a hijacker enrolled: the owner signs in with the new password alone', async () => {
    // The hijacker holds Jane's session and password: they start moving the address and enrol
    // their own phone, which would otherwise ask Jane for its codes once she has her account back.
    const jane = await loginAs(t);
    const { revert } = await changeLinks(t, jane, `moved-${jane.email}`);
    await enrolMfa(t, jane);
    expect(await t.app.db.select().from(mfaTotp).where(eq(mfaTotp.userId, jane.id))).toHaveLength(
      1,
    );

    const reverted = await revertChange(t, revert);
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(await t.app.db.select().from(mfaTotp).where(eq(mfaTotp.userId, jane.id))).toEqual([]);
    expect(
      await t.app.db.select().from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, jane.id)),
    ).toEqual([]);

    const reset = tokenFrom(await mailTo(t, jane.email, REVERTED_SUBJECT));
    const newPassword = 'my own passphrase again 78';
    const done = await t.app.inject({
      method: 'POST',
      url: '/auth/reset-password',
      payload: { token: reset, newPassword },
    });
    expect(done.statusCode, done.body).toBe(204);
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: jane.email, password: newPassword },
    });
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json().access_token).toEqual(expect.any(String));
    const [audit] = (await auditRows(t, 'user.email_change_reverted')).filter(
      (row) => row.subjectId === jane.id,
    );
    expect(audit?.data).toMatchObject({ totpRemoved: true });
  });
});
