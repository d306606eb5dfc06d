import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditEvents, passkeys } from '../../src/db/schema.js';
import { GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { loginWithMfa, nextCode } from '../helpers/mfa.js';
import { expectProblem } from '../helpers/problems.js';
import { login, loginAs } from '../helpers/users.js';
import {
  FLAGS,
  newAuthenticator,
  registerCredential,
  registerPasskey,
  registrationOptions,
  signInOptions,
  signInWithPasskey,
  verify,
  WEBAUTHN_ENV,
} from '../helpers/webauthn.js';
import { changeLinks, revertChange } from '../users/email-change.support.js';

const t = await createTestApp({ env: { ...GENEROUS_LIMITS, ...WEBAUTHN_ENV } });
afterAll(() => t.close());

const audits = (userId: string, type: string) =>
  t.app.db
    .select({ data: auditEvents.data })
    .from(auditEvents)
    .where(and(eq(auditEvents.subjectId, userId), eq(auditEvents.type, type)));

describe('challenges', () => {
  it('a sign-in challenge is answered once, even by a valid assertion', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    const first = await verify(t, challengeId, authenticator.get(publicKey));
    expect(first.statusCode, first.body).toBe(200);
    const replay = await verify(t, challengeId, authenticator.get(publicKey));
    expectProblem(replay, 400, 'invalid_token');
  });

  it('a failed answer spends the challenge too', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    const wrong = await verify(
      t,
      challengeId,
      authenticator.get(publicKey, { origin: 'https://evil.test' }),
    );
    expectProblem(wrong, 401, 'invalid_credentials');
    expectProblem(await verify(t, challengeId, authenticator.get(publicKey)), 400, 'invalid_token');
  });

  it('two answers to one challenge at once: exactly one signs in', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane, newAuthenticator(false));
    const { challengeId, publicKey } = await signInOptions(t);
    const answers = await Promise.all([
      verify(t, challengeId, authenticator.get(publicKey)),
      verify(t, challengeId, authenticator.get(publicKey)),
    ]);
    expect(answers.map((res) => res.statusCode).sort()).toEqual([200, 400]);
  });

  it('a sign-in challenge expires after 5 minutes', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    t.clock.advance(301);
    expectProblem(await verify(t, challengeId, authenticator.get(publicKey)), 400, 'invalid_token');
  });

  it('an answer quoting another challenge than its id’s is refused', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const one = await signInOptions(t);
    const other = await signInOptions(t);
    const res = await verify(t, one.challengeId, authenticator.get(other.publicKey));
    expectProblem(res, 401, 'invalid_credentials');
  });

  it('a registration challenge works once, for 5 minutes, and only for the session it was given to', async () => {
    const jane = await loginAs(t);
    const authenticator = newAuthenticator();
    // Another session of the same user cannot answer it.
    const options = (await registrationOptions(t, jane)).json().publicKey;
    const otherSession = await login(t, jane.email, jane.password);
    expectProblem(
      await registerCredential(t, otherSession, authenticator.create(options)),
      400,
      'invalid_token',
    );
    // That attempt did not spend it: it belongs to the first session, which answers once.
    expect((await registerCredential(t, jane, authenticator.create(options))).statusCode).toBe(201);
    expectProblem(
      await registerCredential(t, jane, newAuthenticator().create(options)),
      400,
      'invalid_token',
    );
    // Expired.
    const late = (await registrationOptions(t, jane)).json().publicKey;
    t.clock.advance(301);
    expectProblem(
      await registerCredential(t, jane, newAuthenticator().create(late)),
      400,
      'invalid_token',
    );
  });

  it('a challenge the server never issued is refused', async () => {
    const jane = await loginAs(t);
    const made = newAuthenticator().create({
      challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      user: { id: 'AAAA' },
    });
    expectProblem(await registerCredential(t, jane, made), 400, 'invalid_token');
  });
});

describe('the signature counter', () => {
  it('a counter that does not rise is refused as a cloned authenticator, and audited', async () => {
    const jane = await loginAs(t);
    const { authenticator, passkey } = await registerPasskey(t, jane);
    expect((await signInWithPasskey(t, authenticator)).statusCode).toBe(200);
    expect((await signInWithPasskey(t, authenticator)).statusCode).toBe(200);
    // A copy of the key replays a counter already seen.
    for (const counter of [2, 1, 0]) {
      const { challengeId, publicKey } = await signInOptions(t);
      const res = await verify(t, challengeId, authenticator.get(publicKey, { counter }));
      expectProblem(res, 401, 'invalid_credentials');
    }
    const refused = await audits(jane.id, 'passkey.clone_refused');
    expect(refused).toHaveLength(3);
    expect(refused[0]?.data).toMatchObject({ passkeyId: passkey.id, storedCounter: 2 });
    const [row] = await t.app.db.select().from(passkeys).where(eq(passkeys.id, passkey.id));
    expect(row?.counter).toBe(2);
    // The genuine authenticator goes on.
    expect((await signInWithPasskey(t, authenticator)).statusCode).toBe(200);
  });

  it('a forged assertion with a low counter is not taken for a clone (the signature comes first)', async () => {
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    expect((await signInWithPasskey(t, authenticator)).statusCode).toBe(200);
    const { challengeId, publicKey } = await signInOptions(t);
    const forged = authenticator.get(publicKey, { counter: 0 });
    forged.response.signature = newAuthenticator().get(publicKey).response.signature;
    expectProblem(await verify(t, challengeId, forged), 401, 'invalid_credentials');
    expect(await audits(jane.id, 'passkey.clone_refused')).toHaveLength(0);
  });
});

describe('what a response must prove', () => {
  it('user verification is required, at registration and at sign-in', async () => {
    const jane = await loginAs(t);
    const options = (await registrationOptions(t, jane)).json().publicKey;
    const unverified = newAuthenticator().create(options, { flags: FLAGS.UP | FLAGS.AT });
    expectProblem(await registerCredential(t, jane, unverified), 400, 'validation_failed');

    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    const res = await verify(t, challengeId, authenticator.get(publicKey, { flags: FLAGS.UP }));
    expectProblem(res, 401, 'invalid_credentials');
  });

  it('a foreign origin or RP ID is refused', async () => {
    const jane = await loginAs(t);
    for (const wrong of [
      { origin: 'https://evil.test' },
      { origin: 'http://app.test' },
      { rpId: 'evil.test' },
    ]) {
      const options = (await registrationOptions(t, jane)).json().publicKey;
      expectProblem(
        await registerCredential(t, jane, newAuthenticator().create(options, wrong)),
        400,
        'validation_failed',
      );
    }
    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    expectProblem(
      await verify(t, challengeId, authenticator.get(publicKey, { rpId: 'evil.test' })),
      401,
      'invalid_credentials',
    );
  });

  it('a registration ceremony cannot be passed off as a sign-in, nor the reverse', async () => {
    const jane = await loginAs(t);
    const options = (await registrationOptions(t, jane)).json().publicKey;
    const swapped = newAuthenticator().create(options, { type: 'webauthn.get' });
    expectProblem(await registerCredential(t, jane, swapped), 400, 'validation_failed');
    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    const res = await verify(
      t,
      challengeId,
      authenticator.get(publicKey, { type: 'webauthn.create' }),
    );
    expectProblem(res, 401, 'invalid_credentials');
  });

  it('a user handle that is not the passkey owner’s is refused', async () => {
    const jane = await loginAs(t);
    const bob = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const { challengeId, publicKey } = await signInOptions(t);
    const bobsHandle = Buffer.from(bob.id.replace(/-/g, ''), 'hex').toString('base64url');
    const res = await verify(
      t,
      challengeId,
      authenticator.get(publicKey, { userHandle: bobsHandle }),
    );
    expectProblem(res, 401, 'invalid_credentials');
    expect(await audits(jane.id, 'auth.login_failed')).toContainEqual({
      data: expect.objectContaining({ reason: 'user_handle_mismatch' }),
    });
  });

  it('a passkey registered to one account cannot be registered to another', async () => {
    const jane = await loginAs(t);
    const bob = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const options = (await registrationOptions(t, bob)).json().publicKey;
    expectProblem(await registerCredential(t, bob, authenticator.create(options)), 409, 'conflict');
  });
});

describe('who may add and delete', () => {
  it('with TOTP on, adding a passkey needs a recent step-up; the password does not replace it', async () => {
    const mfa = await loginWithMfa(t);
    // The enrolment's confirm counted as a step-up; let it age.
    t.clock.advance(601);
    expectProblem(await registrationOptions(t, mfa), 403, 'step_up_required');
    const stepped = await t.app.inject({
      method: 'POST',
      url: '/auth/step-up',
      headers: mfa.headers,
      payload: { code: nextCode(t, mfa.secret) },
    });
    expect(stepped.statusCode, stepped.body).toBe(200);
    const headers = { authorization: `Bearer ${stepped.json().access_token}` };
    const res = await registrationOptions(t, { headers });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('one user cannot delete another’s passkey', async () => {
    const jane = await loginAs(t);
    const mallory = await loginAs(t);
    const { passkey, authenticator } = await registerPasskey(t, jane);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/users/me/passkeys/${passkey.id}`,
      headers: mallory.headers,
    });
    expectProblem(res, 404, 'not_found');
    expect((await signInWithPasskey(t, authenticator)).statusCode).toBe(200);
  });

  it('a disabled account cannot sign in with its passkey', async () => {
    const admin = await loginAs(t, ['admin']);
    const jane = await loginAs(t);
    const { authenticator } = await registerPasskey(t, jane);
    const disabled = await t.app.inject({
      method: 'PATCH',
      url: `/admin/users/${jane.id}`,
      headers: admin.headers,
      payload: { isActive: false },
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expectProblem(await signInWithPasskey(t, authenticator), 403, 'account_disabled');
  });

  it('the “this wasn’t me” revert of an email change removes every passkey', async () => {
    // A hijacker who held the session may have added a passkey: it must not outlive the revert.
    const jane = await loginAs(t);
    await registerPasskey(t, jane);
    const { revert } = await changeLinks(t, jane, `new-${jane.email}`);
    const reverted = await revertChange(t, revert);
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(await t.app.db.select().from(passkeys).where(eq(passkeys.userId, jane.id))).toEqual([]);
  });
});
