import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { GENEROUS_LIMITS, me, refresh, refreshRows, sessionIdOf, sessionRow } from './support.js';

/** POST /auth/refresh: rotation within one session. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('POST /auth/refresh', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await loginAs(t);
  });

  it('exchanges a refresh token for a new pair in the same session', async () => {
    t.clock.advance(120);
    const res = await refresh(t, user.refreshToken);
    expect(res.statusCode).toBe(200);
    const pair = res.json();
    expect(pair).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    expect(pair.refresh_token).not.toBe(user.refreshToken);
    expect(pair.access_token).not.toBe(user.accessToken);
    expect(sessionIdOf(pair.access_token)).toBe(sessionIdOf(user.accessToken));
    expect((await me(t, pair.access_token)).json().id).toBe(user.id);
    user = { ...user, accessToken: pair.access_token, refreshToken: pair.refresh_token };
  });

  it('records the use on the session and keeps one unused token per session', async () => {
    const sid = sessionIdOf(user.accessToken);
    t.clock.advance(3600);
    const res = await refresh(t, user.refreshToken);
    expect(res.statusCode).toBe(200);
    expect((await sessionRow(t, sid))?.lastUsedAt).toEqual(t.clock.now());
    const rows = await refreshRows(t, sid);
    expect(rows).toHaveLength(3);
    expect(rows.filter((row) => row.usedAt === null)).toHaveLength(1);
    user = { ...user, refreshToken: res.json().refresh_token };
  });

  it('can be chained for as long as the session lives', async () => {
    let token = user.refreshToken;
    for (let day = 0; day < 5; day++) {
      t.clock.advance(24 * 3600);
      const res = await refresh(t, token);
      expect(res.statusCode).toBe(200);
      token = res.json().refresh_token;
    }
  });

  it('an access token from before the refresh keeps working until it expires', async () => {
    const fresh = await loginAs(t);
    const res = await refresh(t, fresh.refreshToken);
    expect(res.statusCode).toBe(200);
    expect((await me(t, fresh.accessToken)).statusCode).toBe(200);
  });
});
