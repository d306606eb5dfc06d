import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';
import {
  auditRows,
  expectProblem,
  expectUnauthorized,
  GENEROUS_LIMITS,
  me,
  post,
  refresh,
} from './support.js';

/**
 * Nothing lives forever: access tokens for 15 minutes (plus 30 s of tolerated skew), sessions
 * until 7 days without use (idle) and at most 30 days (absolute), whatever the refreshes.
 */

const ACCESS_TTL = 900;
const IDLE_TTL = 7 * 24 * 3600;
const ABSOLUTE_TTL = 30 * 24 * 3600;

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('POST /auth/refresh refuses', () => {
  it('an unknown refresh token → 401', async () => {
    expectProblem(await refresh(t, 'A'.repeat(43)), 401, 'unauthorized');
  });

  it.each([
    ['too short', 'abc'],
    ['an access token (JWT dots are not allowed)', 'aaaaaaaaaa.bbbbbbbbbbb.ccccccccccc'],
    ['not a string', 42],
  ])('a malformed refresh token, %s → 400', async (_label, token) => {
    expectProblem(
      await post(t, '/auth/refresh', { refresh_token: token }),
      400,
      'validation_failed',
    );
  });

  it('a missing body → 400', async () => {
    expectProblem(await post(t, '/auth/refresh', {}), 400, 'validation_failed');
  });
});

describe('access token lifetime', () => {
  it('works at 900 s + 30 s of tolerance, and is 401 token_expired after', async () => {
    const user = await loginAs(t);
    t.clock.advance(ACCESS_TTL + 29);
    expect((await me(t, user.accessToken)).statusCode).toBe(200);
    t.clock.advance(2);
    const res = await me(t, user.accessToken);
    expectUnauthorized(res, 'token_expired');
    // The refresh token still gets a new one.
    const renewed = await refresh(t, user.refreshToken);
    expect(renewed.statusCode).toBe(200);
    expect((await me(t, renewed.json().access_token)).statusCode).toBe(200);
  });
});

describe('idle timeout', () => {
  it('a session unused for longer than REFRESH_IDLE_TTL cannot be refreshed', async () => {
    const user = await loginAs(t);
    t.clock.advance(IDLE_TTL + 1);
    expectProblem(await refresh(t, user.refreshToken), 401, 'unauthorized');
  });

  it('presenting the dead session’s token again is not mistaken for a replay attack', async () => {
    const user = await loginAs(t);
    t.clock.advance(IDLE_TTL + 1);
    const reuseBefore = (await auditRows(t, 'auth.refresh_reuse')).length;
    expectProblem(await refresh(t, user.refreshToken), 401, 'unauthorized');
    expectProblem(await refresh(t, user.refreshToken), 401, 'unauthorized');
    expect(await auditRows(t, 'auth.refresh_reuse')).toHaveLength(reuseBefore);
  });

  it('one used just within it can', async () => {
    const user = await loginAs(t);
    t.clock.advance(IDLE_TTL - 60);
    expect((await refresh(t, user.refreshToken)).statusCode).toBe(200);
  });
});

describe('a disabled account', () => {
  it('cannot refresh, and a client retrying is not reported as a replay', async () => {
    const user = await loginAs(t);
    await t.app.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    const reuseBefore = (await auditRows(t, 'auth.refresh_reuse')).length;
    expectProblem(await refresh(t, user.refreshToken), 401, 'unauthorized');
    expectProblem(await refresh(t, user.refreshToken), 401, 'unauthorized');
    expect(await auditRows(t, 'auth.refresh_reuse')).toHaveLength(reuseBefore);
  });
});

describe('absolute lifetime', () => {
  it('a session refreshed every 6 days still ends at 30 days, and its last access token with it', async () => {
    const user = await loginAs(t);
    let token = user.refreshToken;
    let elapsed = 0;
    while (elapsed + 6 * 24 * 3600 < ABSOLUTE_TTL) {
      t.clock.advance(6 * 24 * 3600);
      elapsed += 6 * 24 * 3600;
      const res = await refresh(t, token);
      expect(res.statusCode, `refresh at day ${elapsed / 86400}`).toBe(200);
      token = res.json().refresh_token;
    }
    // A minute before the end: one more refresh, and a fresh access token.
    t.clock.advance(ABSOLUTE_TTL - elapsed - 60);
    const last = await refresh(t, token);
    expect(last.statusCode).toBe(200);
    const { access_token: access, refresh_token: next } = last.json();
    expect((await me(t, access)).statusCode).toBe(200);

    // Two minutes later the session is over, though the access token itself has not expired.
    t.clock.advance(120);
    expectUnauthorized(await me(t, access));
    expectProblem(await refresh(t, next), 401, 'unauthorized');
  });
});
