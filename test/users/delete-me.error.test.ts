import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { expectProblem, expectUnauthorized, GENEROUS_LIMITS, me } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, type TestUser } from '../helpers/users.js';

/** DELETE /users/me refusals: the account stays, and so do its sessions. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const remove = (session: TestUser, payload?: unknown) =>
  t.app.inject({
    method: 'DELETE',
    url: '/users/me',
    headers: session.headers,
    ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
  });

async function stillThere(session: TestUser) {
  expect(await t.app.db.select().from(users).where(eq(users.id, session.id))).toHaveLength(1);
  expect((await me(t, session.accessToken)).statusCode).toBe(200);
}

describe('DELETE /users/me', () => {
  it('a wrong password → 400 naming /body/password; the account stays', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    const problem = expectProblem(
      await remove(session, { password: 'not my password' }),
      400,
      'validation_failed',
    );
    expect(problem.errors).toEqual([{ path: '/body/password', message: 'is incorrect' }]);
    await stillThere(session);
  });

  it.each([
    ['no body', undefined],
    ['an empty body', {}],
    ['an extra field', { password: 'x', confirm: true }],
  ])('%s → 400', async (_label, body) => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    expectProblem(await remove(session, body), 400, 'validation_failed');
    await stillThere(session);
  });

  it('the last admin cannot delete itself → 409', async () => {
    const account = await createUser(t, ['admin']);
    const admin = await login(t, account.email, account.password);
    const res = await remove(admin, { password: account.password });
    expect(res.statusCode).toBe(409);
    await stillThere(admin);
  });

  it('no bearer token → 401', async () => {
    expectUnauthorized(
      await t.app.inject({ method: 'DELETE', url: '/users/me', payload: { password: 'x' } }),
    );
  });
});
