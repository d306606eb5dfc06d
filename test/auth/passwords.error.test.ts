import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, uniqueEmail } from '../helpers/users.js';
import {
  expectProblem,
  GENEROUS_LIMITS,
  loginRequest,
  post,
  registerRequest,
  resetTokenFor,
  userRow,
} from './support.js';

/**
 * Password policy (NIST 800-63B): at least 8 characters, at most 128, not among the most common
 * passwords, not the email; no composition rules. Applied alike on register, reset and change.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const COMMON = ['password123', 'qwertyuiop', '12345678', 'iloveyou1'];

describe('the shipped common-password list', () => {
  const list = readFileSync(
    new URL('../../src/modules/auth/wordlists/common-passwords.txt', import.meta.url),
    'utf8',
  )
    .split('\n')
    .filter(Boolean);

  it('holds at least 10,000 passwords, the ones this suite uses among them', () => {
    expect(list.length).toBeGreaterThanOrEqual(10_000);
    for (const password of COMMON) expect(list).toContain(password);
  });
});

describe('weak passwords → 400 weak_password, and no account', () => {
  const email = 'weak-owner-4821@example.com';
  it.each([
    ...COMMON.map((password) => [`the common "${password}"`, password]),
    ['a common one in capitals', 'PASSWORD123'],
    ['the email itself', email],
    ['the email in other case', email.toUpperCase()],
  ])('%s', async (_label, password) => {
    const res = await registerRequest(t, { email, password });
    const problem = expectProblem(res, 400, 'weak_password');
    expect(problem.errors?.[0]?.path).toBe('/password');
    expect(await userRow(t, email)).toBeUndefined();
  });
});

describe('length limits are schema limits: checked before any hashing', () => {
  it.each([
    ['7 characters', 'abc1234'],
    ['4 emoji (8 UTF-16 units, but 4 characters)', '🔑🏠🔐🏡'],
    ['7 characters, one outside the BMP', 'abcdef𝄞'],
    ['1 character', 'x'],
  ])('%s → 400 validation_failed naming the password', async (_label, password) => {
    const email = uniqueEmail('short');
    const res = await registerRequest(t, { email, password });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.map((error) => error.path)).toEqual(['/body/password']);
    expect(await userRow(t, email)).toBeUndefined();
  });

  it('129 characters → 400 validation_failed', async () => {
    const email = uniqueEmail('long');
    const res = await registerRequest(t, { email, password: 'Lz9-'.repeat(32).concat('q') });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.map((error) => error.path)).toContain('/body/password');
    expect(await userRow(t, email)).toBeUndefined();
  });

  it('a ~900 KB password (under the 1 MB body limit) → 400, or 413 on the public auth routes', async () => {
    const huge = 'x7Q!'.repeat(225_000);
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    // The public auth routes take 16 KB at most: refused on Content-Length, never read.
    const publicAnswers = [
      await registerRequest(t, { email: uniqueEmail('huge'), password: huge }),
      await loginRequest(t, user.email, huge),
      await post(t, '/auth/reset-password', { token: 'a'.repeat(43), newPassword: huge }),
    ];
    for (const res of publicAnswers) expectProblem(res, 413, 'payload_too_large');
    const change = await post(
      t,
      '/users/me/password',
      { currentPassword: user.password, newPassword: huge },
      session.accessToken,
    );
    expectProblem(change, 400, 'validation_failed');
    // Just under the public limit, the schema's length check answers.
    const long = 'x7Q!'.repeat(3_000);
    expectProblem(await loginRequest(t, user.email, long), 400, 'validation_failed');
  });

  it('a body over the 1 MB limit → 413', async () => {
    const res = await registerRequest(t, { password: 'y'.repeat(1_100_000) });
    expectProblem(res, 413, 'payload_too_large');
  });
});

describe('the same policy on reset and on change', () => {
  it('reset with a common or email-equal password → 400 weak_password, and the token still works', async () => {
    const user = await createUser(t);
    const token = await resetTokenFor(t, user.email);
    for (const newPassword of ['qwertyuiop', user.email]) {
      const res = await post(t, '/auth/reset-password', { token, newPassword });
      expectProblem(res, 400, 'weak_password');
    }
    const ok = await post(t, '/auth/reset-password', {
      token,
      newPassword: 'a perfectly fine new passphrase',
    });
    expect(ok.statusCode).toBe(204);
  });

  it('change to a common or email-equal password → 400 weak_password, the old one still works', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    for (const newPassword of ['iloveyou1', user.email]) {
      const res = await post(
        t,
        '/users/me/password',
        { currentPassword: user.password, newPassword },
        session.accessToken,
      );
      expectProblem(res, 400, 'weak_password');
    }
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
  });
});
