import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/modules/auth/tokens.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';
import {
  auditRows,
  expectUnauthorized,
  GENEROUS_LIMITS,
  me,
  refresh,
  refreshRows,
  sessionIdOf,
  sessionRow,
} from './support.js';

/**
 * Refresh-token rotation with reuse detection. A token that was exchanged and is presented again
 * is a replay: the whole session dies. Concurrent exchanges of one token have exactly one winner,
 * and the losers do not kill the session (a client retrying is not an attacker).
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('replay of a rotated token', () => {
  it('RT0→RT1→RT2, replay RT0: 401, then RT2 and every access token of the session are 401', async () => {
    const user = await loginAs(t);
    const sid = sessionIdOf(user.accessToken);
    const first = (await refresh(t, user.refreshToken)).json();
    const second = (await refresh(t, first.refresh_token)).json();

    expectUnauthorized(await refresh(t, user.refreshToken));
    expectUnauthorized(await refresh(t, second.refresh_token));
    expectUnauthorized(await me(t, second.access_token));
    expectUnauthorized(await me(t, user.accessToken));

    const session = await sessionRow(t, sid);
    expect(session?.revokedReason).toBe('refresh_token_reuse');
    const events = await auditRows(t, 'auth.refresh_reuse');
    expect(events.find((event) => event.subjectId === user.id)?.data).toEqual({ sessionId: sid });
  });

  it('a replay long after the rotation (beyond the 30 s grace) kills the session', async () => {
    const user = await loginAs(t);
    const rotated = (await refresh(t, user.refreshToken)).json();
    t.clock.advance(31);
    expectUnauthorized(await refresh(t, user.refreshToken));
    expectUnauthorized(await refresh(t, rotated.refresh_token));
    expect((await sessionRow(t, sessionIdOf(user.accessToken)))?.revokedReason).toBe(
      'refresh_token_reuse',
    );
  });

  it('a replay of another session’s token does not touch this one', async () => {
    const victim = await loginAs(t);
    const other = await loginAs(t);
    await refresh(t, other.refreshToken);
    await refresh(t, (await refresh(t, other.refreshToken)).json().refresh_token);
    expect((await refresh(t, victim.refreshToken)).statusCode).toBe(200);
  });
});

describe('concurrent refreshes of one token', () => {
  it('10 at once: exactly one 200, one live successor, and the winner’s token keeps working', async () => {
    const user = await loginAs(t);
    const sid = sessionIdOf(user.accessToken);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => refresh(t, user.refreshToken)),
    );
    const statuses = answers.map((res) => res.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(9);

    const rows = await refreshRows(t, sid);
    const live = rows.filter((row) => row.usedAt === null);
    expect(live).toHaveLength(1);
    const winner = answers.find((res) => res.statusCode === 200)!.json();
    expect(live[0]?.tokenHash).toBe(sha256(winner.refresh_token));

    // The losers did not revoke the session.
    expect((await sessionRow(t, sid))?.revokedAt).toBeNull();
    expect((await me(t, winner.access_token)).statusCode).toBe(200);
    const next = await refresh(t, winner.refresh_token);
    expect(next.statusCode).toBe(200);
    expect((await me(t, next.json().access_token)).statusCode).toBe(200);
  });
});

describe('refresh tokens at rest', () => {
  it('only their SHA-256 is stored, never the token itself', async () => {
    const user = await loginAs(t);
    const rotated = (await refresh(t, user.refreshToken)).json();
    const rows = await refreshRows(t, sessionIdOf(user.accessToken));
    const hashes = rows.map((row) => row.tokenHash);
    expect(hashes).toHaveLength(2);
    for (const token of [user.refreshToken, rotated.refresh_token]) {
      expect(hashes).not.toContain(token);
      expect(hashes).toContain(sha256(token));
    }
  });
});
