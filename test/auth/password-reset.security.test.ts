import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/modules/auth/tokens.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, uniqueEmail } from '../helpers/users.js';
import {
  bodyWithoutRequestId,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  oneTimeRows,
  outboxRows,
  post,
  refresh,
  resetTokenFor,
} from './support.js';

/** Password recovery reveals no accounts, and its tokens resist reuse, races and theft. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('no account enumeration through POST /auth/forgot-password', () => {
  it('known, unknown and disabled emails: same status and body; a mail only to the known one', async () => {
    const known = await createUser(t);
    const disabled = await createUser(t, ['homeowner'], { isActive: false });
    const unknown = uniqueEmail('nobody');

    const answers = [
      await post(t, '/auth/forgot-password', { email: known.email }),
      await post(t, '/auth/forgot-password', { email: unknown }),
      await post(t, '/auth/forgot-password', { email: disabled.email }),
    ];
    for (const res of answers) expect(res.statusCode).toBe(202);
    expect(new Set(answers.map(bodyWithoutRequestId)).size).toBe(1);

    expect((await t.mailbox.next(known.email)).subject).toMatch(/reset/i);
    await t.app.jobs.runDue();
    expect(t.mailbox.to(known.email)).toHaveLength(1);
    expect(await outboxRows(t, unknown)).toHaveLength(0);
    expect(await outboxRows(t, disabled.email)).toHaveLength(0);
  });
});

describe('reset tokens', () => {
  it('are stored only as their SHA-256', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    const [row] = await oneTimeRows(t, user.id);
    expect(row?.tokenHash).not.toBe(token);
    expect(row?.tokenHash).toBe(sha256(token));
  });

  it('used twice at once: exactly one succeeds', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    const answers = await Promise.all(
      ['first racing passphrase', 'second racing passphrase', 'third racing passphrase'].map(
        (newPassword) => post(t, '/auth/reset-password', { token, newPassword }),
      ),
    );
    expect(answers.map((res) => res.statusCode).sort()).toEqual([204, 400, 400]);
  });

  it('a reset also kills sessions started after the link was sent', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    const attacker = await login(t, user.email, user.password);
    expect(
      (await post(t, '/auth/reset-password', { token, newPassword: 'owner takes it back' }))
        .statusCode,
    ).toBe(204);
    expectUnauthorized(await me(t, attacker.accessToken));
    expectUnauthorized(await refresh(t, attacker.refreshToken));
  });

  it('a reset token is not a refresh token, and a refresh token is not a reset token', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    const token = await resetTokenFor(t, user.email);
    expectUnauthorized(await refresh(t, token));
    const misuse = await post(t, '/auth/reset-password', {
      token: session.refreshToken,
      newPassword: 'hijacked with a refresh token',
    });
    expect(misuse.statusCode).toBe(400);
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
    // Both still do their own job.
    expect((await refresh(t, session.refreshToken)).statusCode).toBe(200);
    expect(
      (await post(t, '/auth/reset-password', { token, newPassword: 'a proper new one' }))
        .statusCode,
    ).toBe(204);
  });
});
