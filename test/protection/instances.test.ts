import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres } from '../helpers/databases.js';
import { createUser, login, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SHARED = {
  REDIS_URL,
  RATE_LIMIT_LOGIN_FAILURES: '4',
  ADMIN_EMAIL: 'first-admin@example.com',
  ADMIN_PASSWORD: 'a long admin password 1234',
};

/** Two instances of the service on one PostgreSQL database and one Redis act as one service. */
describe.skipIf(!onPostgres)(
  'several instances (PostgreSQL and Redis; skipped on PGlite, which is single-process)',
  () => {
    let a: TestContext;
    let b: TestContext;
    beforeAll(async () => {
      a = await createTestApp({ noSmtp: true, env: SHARED });
      b = await createTestApp({ noSmtp: true, env: SHARED, databaseUrl: a.databaseUrl });
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    it('shares the login throttle: failures on one instance count on the other', async () => {
      const user = await createUser(a, ['homeowner'], { email: uniqueEmail('shared') });
      for (const instance of [a, b, a, b]) {
        const res = await instance.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { email: user.email, password: 'definitely wrong 1' },
        });
        expect(res.statusCode).toBe(401);
      }
      for (const instance of [a, b]) {
        const res = await instance.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { email: user.email, password: STRONG_PASSWORD },
        });
        expect(res.statusCode).toBe(429);
      }
    });

    it('honours a logout on one instance at the other at once', async () => {
      const user = await createUser(a, ['homeowner']);
      const session = await login(a, user.email, user.password);
      expect(
        (await b.app.inject({ method: 'GET', url: '/users/me', headers: session.headers }))
          .statusCode,
      ).toBe(200);
      await a.app.inject({ method: 'POST', url: '/auth/logout', headers: session.headers });
      expect(
        (await b.app.inject({ method: 'GET', url: '/users/me', headers: session.headers }))
          .statusCode,
      ).toBe(401);
    });

    it('creates the bootstrap admin once', async () => {
      const res = await b.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: SHARED.ADMIN_EMAIL, password: SHARED.ADMIN_PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      const admins = await a.database.query<{ count: number }>(
        'count_admin',
        'select count(*)::int as count from users where email = $1',
        [SHARED.ADMIN_EMAIL],
      );
      expect(admins[0]?.count).toBe(1);
    });
  },
);

describe('Redis unreachable', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({
      noSmtp: true,
      env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_GLOBAL_MAX: '3' },
    });
  });
  afterAll(() => t.close());

  it('keeps serving (the limits fail open) instead of failing requests', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
    }
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: uniqueEmail(), password: 'some password 1' },
    });
    expect(login.statusCode).toBe(401);
  });
});
