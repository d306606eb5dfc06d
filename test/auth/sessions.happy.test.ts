import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login } from '../helpers/users.js';
import {
  auditRows,
  bearer,
  expectUnauthorized,
  GENEROUS_LIMITS,
  get,
  me,
  post,
  refresh,
  sessionIdOf,
  sessionRow,
} from './support.js';

/** GET /auth/sessions, DELETE /auth/sessions/{id}, POST /auth/logout, POST /auth/logout-all. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

async function loginWithAgent(email: string, password: string, agent: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { 'user-agent': agent },
    payload: { email, password },
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { access_token: string; refresh_token: string };
}

describe('GET /auth/sessions', () => {
  it('lists the user’s live sessions, most recently used first, marking the current one', async () => {
    const user = await createUser(t);
    const laptop = await loginWithAgent(user.email, user.password, 'Laptop/1.0');
    t.clock.advance(10);
    const phone = await loginWithAgent(user.email, user.password, 'Phone/2.0');

    const res = await get(t, '/auth/sessions', laptop.access_token);
    expect(res.statusCode).toBe(200);
    const list = res.json();
    expect(list).toHaveLength(2);
    expect(list[0]).toEqual({
      id: sessionIdOf(phone.access_token),
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      userAgent: 'Phone/2.0',
      ip: '127.0.0.1',
      current: false,
    });
    expect(list[1]).toMatchObject({
      id: sessionIdOf(laptop.access_token),
      userAgent: 'Laptop/1.0',
      current: true,
    });
    expect(new Date(list[1].createdAt).getTime()).toBeLessThan(
      new Date(list[0].createdAt).getTime(),
    );
    // Seen from the phone, the phone is current.
    const fromPhone = (await get(t, '/auth/sessions', phone.access_token)).json();
    expect(fromPhone.find((s: { current: boolean }) => s.current).id).toBe(
      sessionIdOf(phone.access_token),
    );
  });

  it('leaves out revoked sessions and other users’ sessions', async () => {
    const user = await createUser(t);
    const stranger = await createUser(t);
    const kept = await login(t, user.email, user.password);
    const ended = await login(t, user.email, user.password);
    await login(t, stranger.email, stranger.password);
    await post(t, '/auth/logout', undefined, ended.accessToken);
    const list = (await get(t, '/auth/sessions', kept.accessToken)).json();
    expect(list.map((s: { id: string }) => s.id)).toEqual([sessionIdOf(kept.accessToken)]);
  });
});

describe('DELETE /auth/sessions/{id}', () => {
  it('revokes one of my sessions: 204, and that session’s tokens are 401 at once', async () => {
    const user = await createUser(t);
    const mine = await login(t, user.email, user.password);
    const lost = await login(t, user.email, user.password);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${sessionIdOf(lost.accessToken)}`,
      headers: bearer(mine.accessToken),
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectUnauthorized(await me(t, lost.accessToken));
    expectUnauthorized(await refresh(t, lost.refreshToken));
    expect((await sessionRow(t, sessionIdOf(lost.accessToken)))?.revokedReason).toBe(
      'revoked_by_user',
    );
    // The session that did it is untouched.
    expect((await me(t, mine.accessToken)).statusCode).toBe(200);
    expect((await refresh(t, mine.refreshToken)).statusCode).toBe(200);
  });

  it('may revoke the current session too', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${sessionIdOf(session.accessToken)}`,
      headers: session.headers,
    });
    expect(res.statusCode).toBe(204);
    expectUnauthorized(await me(t, session.accessToken));
  });
});

describe('POST /auth/logout', () => {
  it('204; this session’s access and refresh tokens stop working, the others do not', async () => {
    const user = await createUser(t);
    const here = await login(t, user.email, user.password);
    const elsewhere = await login(t, user.email, user.password);
    const res = await post(t, '/auth/logout', undefined, here.accessToken);
    expect(res.statusCode).toBe(204);
    expectUnauthorized(await me(t, here.accessToken));
    expectUnauthorized(await refresh(t, here.refreshToken));
    expect((await me(t, elsewhere.accessToken)).statusCode).toBe(200);
    const events = await auditRows(t, 'auth.logout');
    expect(events.find((event) => event.subjectId === user.id)?.data).toEqual({
      sessionId: sessionIdOf(here.accessToken),
    });
  });
});

describe('POST /auth/logout-all', () => {
  it('204; every session of the user ends, other users’ sessions do not', async () => {
    const user = await createUser(t);
    const stranger = await createUser(t);
    const sessions = [
      await login(t, user.email, user.password),
      await login(t, user.email, user.password),
      await login(t, user.email, user.password),
    ];
    const theirs = await login(t, stranger.email, stranger.password);
    const res = await post(t, '/auth/logout-all', undefined, sessions[1]!.accessToken);
    expect(res.statusCode).toBe(204);
    for (const session of sessions) {
      expectUnauthorized(await me(t, session.accessToken));
      expectUnauthorized(await refresh(t, session.refreshToken));
    }
    expect((await me(t, theirs.accessToken)).statusCode).toBe(200);
    const events = await auditRows(t, 'auth.logout_all');
    expect(events.find((event) => event.subjectId === user.id)?.data).toEqual({ sessions: 3 });
    // The account itself is fine: a new login works.
    expect((await login(t, user.email, user.password)).accessToken).toBeTruthy();
  });
});
