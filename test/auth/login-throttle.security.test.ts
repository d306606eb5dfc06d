import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser } from '../helpers/users.js';
import { expectProblem, GENEROUS_LIMITS, loginRequest } from './support.js';

/**
 * Brute force and credential stuffing: failed logins are counted per normalised email, so case
 * variants share one counter. Past the limit even the right password is refused (429 with
 * Retry-After) until the window passes; a success resets the count. The per-address limits are
 * raised here so that only the per-account throttle is in play.
 */

const FAILURES = 5;
const WINDOW = 60;

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({
    env: {
      ...GENEROUS_LIMITS,
      RATE_LIMIT_LOGIN_FAILURES: String(FAILURES),
      RATE_LIMIT_WINDOW: String(WINDOW),
    },
  });
});
afterAll(() => t.close());

/** `Jane.Doe@Example.COM`-style variants of one address. */
function variants(email: string): string[] {
  const [local, domain] = email.split('@') as [string, string];
  return [
    email.toUpperCase(),
    `${local}@${domain.toUpperCase()}`,
    `${local.toUpperCase()}@${domain}`,
    ` ${email} `,
    email,
  ];
}

describe('failed logins are throttled per account', () => {
  it('after the limit, mixing case variants, the right password is refused until the window passes', async () => {
    const user = await createUser(t);
    for (const variant of variants(user.email).slice(0, FAILURES)) {
      expect((await loginRequest(t, variant, 'guess number one two')).statusCode).toBe(401);
    }

    const refused = await loginRequest(t, user.email, user.password);
    expectProblem(refused, 429, 'rate_limited');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW);
    expect((await loginRequest(t, user.email.toUpperCase(), user.password)).statusCode).toBe(429);

    // Another account from the same address is not affected.
    const other = await createUser(t);
    expect((await loginRequest(t, other.email, other.password)).statusCode).toBe(200);

    t.clock.advance(WINDOW + 1);
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
  });

  it('a success resets the count', async () => {
    const user = await createUser(t);
    for (let i = 0; i < FAILURES - 1; i++) {
      expect((await loginRequest(t, user.email, 'guess number one two')).statusCode).toBe(401);
    }
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
    for (let i = 0; i < FAILURES - 1; i++) {
      expect((await loginRequest(t, user.email, 'guess number one two')).statusCode).toBe(401);
    }
    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
  });

  it('an unknown email is throttled the same way (no enumeration through the limiter)', async () => {
    const ghost = 'nobody-here-7731@example.com';
    for (let i = 0; i < FAILURES; i++) {
      expect((await loginRequest(t, ghost, 'guess number one two')).statusCode).toBe(401);
    }
    expect((await loginRequest(t, ghost, 'guess number one two')).statusCode).toBe(429);
  });
});
