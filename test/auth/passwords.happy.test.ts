import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';
import { GENEROUS_LIMITS, loginRequest, registerVerified } from './support.js';

/** What the policy accepts: no composition rules, long passphrases, any characters. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('acceptable passwords register, verify and sign in', () => {
  it.each([
    ['exactly 8 characters, lower case only', 'qzmvbxtw'],
    ['65 characters', 'the quick brown fox jumps over the lazy dog and keeps running far'],
    ['100 characters', 'Long-passphrase-'.repeat(6).concat('done')],
    ['the maximum, 128 characters', 'k9#Tq'.repeat(25).concat('end')],
    ['spaces and punctuation', '  spaced out; with “quotes” and tabs\t '],
    ['non-Latin letters', 'пароль-который-никто-не-угадает'],
    ['emoji', '🔑🏠 home sweet home 🏡🔐'],
  ])('%s', async (_label, password) => {
    const email = uniqueEmail('ok');
    await registerVerified(t, email, password);
    expect((await loginRequest(t, email, password)).statusCode).toBe(200);
    // Exactly the password: no trimming, no case folding.
    expect((await loginRequest(t, email, password.trim().toUpperCase())).statusCode).toBe(401);
  });
});
