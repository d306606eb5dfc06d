import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userRoles, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem, GENEROUS_LIMITS, loginRequest, me } from './support.js';

/**
 * No credentials ship with the service: the first admin exists only because ADMIN_EMAIL and
 * ADMIN_PASSWORD said so (here `admin@localhost`, the kind of address a developer sets), and it
 * can sign in with exactly that password. (A database started without them has no admin: see
 * login.security.test.ts.)
 */

const ADMIN_EMAIL = 'Admin@Localhost';
const ADMIN_PASSWORD = 'the bootstrap admin passphrase';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({
    env: { ...GENEROUS_LIMITS, ADMIN_EMAIL, ADMIN_PASSWORD },
  });
});
afterAll(() => t.close());

describe('the bootstrap admin', () => {
  it('is the only account, verified, active, holding the admin role', async () => {
    const rows = await t.app.db.select().from(users);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      email: 'admin@localhost',
      emailVerified: true,
      isActive: true,
    });
    const roles = await t.app.db.select().from(userRoles).where(eq(userRoles.userId, rows[0]!.id));
    expect(roles.map((role) => role.roleName)).toEqual(['admin']);
    expect(rows[0]?.passwordHash).not.toContain(ADMIN_PASSWORD);
  });

  it('signs in with ADMIN_PASSWORD, whatever the case of the email', async () => {
    const res = await loginRequest(t, 'ADMIN@localhost', ADMIN_PASSWORD);
    expect(res.statusCode, res.body).toBe(200);
    expect((await me(t, res.json().access_token)).json().roles).toEqual(['admin']);
  });

  it.each(['admin', 'admin123', 'password', 'changeme', ADMIN_PASSWORD.toUpperCase()])(
    'and with nothing else: %s → 401',
    async (password) => {
      expectProblem(await loginRequest(t, ADMIN_EMAIL, password), 401, 'invalid_credentials');
    },
  );
});
