import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, userRoles, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { sharedDatabase } from '../helpers/databases.js';
import { createUser, login, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { expectProblem, rolesInDatabase, SEEDED_PERMISSIONS, send } from './support.js';

/**
 * ADMIN_EMAIL and ADMIN_PASSWORD: once the service is ready, a verified, active admin with that
 * email exists. Starting again, or a second instance, changes nothing; an existing account gets
 * the admin role and keeps its password.
 */

const ADMIN_PASSWORD = 'a long admin password 1234';

const adminEnv = (email: string, password = ADMIN_PASSWORD) => ({
  ADMIN_EMAIL: email,
  ADMIN_PASSWORD: password,
});

async function accountsWith(t: TestContext, email: string) {
  return t.app.db.select().from(users).where(eq(users.email, email));
}

async function bootstrapEvents(t: TestContext, userId: string) {
  const rows = await t.app.db.select().from(auditEvents).where(eq(auditEvents.subjectId, userId));
  return rows.filter((row) => row.type === 'admin.bootstrapped').map((row) => row.data);
}

const tryLogin = (t: TestContext, email: string, password: string) =>
  send(t, { method: 'POST', url: '/auth/login', payload: { email, password } });

// Each test starts one or two app instances of its own: slow on a busy machine.
describe('bootstrap admin', { timeout: 120_000 }, () => {
  it('creates a verified, active admin that can sign in', async () => {
    const email = uniqueEmail('boot');
    const t = await createTestApp({ noSmtp: true, env: adminEnv(email) });
    try {
      const [account, ...others] = await accountsWith(t, email);
      expect(others).toEqual([]);
      expect(account).toMatchObject({ email, emailVerified: true, isActive: true });
      expect(await rolesInDatabase(t, account!.id)).toEqual(['admin']);

      const signedIn = await login(t, email, ADMIN_PASSWORD);
      const me = await send(t, { method: 'GET', url: '/users/me', headers: signedIn.headers });
      expect(me.json()).toMatchObject({ roles: ['admin'], permissions: SEEDED_PERMISSIONS.admin });
      expect(await bootstrapEvents(t, account!.id)).toEqual([{ created: true, granted: true }]);
    } finally {
      await t.close();
    }
  });

  it('is idempotent: a second instance on the same database changes nothing', async () => {
    const email = uniqueEmail('boot');
    const first = await createTestApp({ noSmtp: true, env: adminEnv(email) });
    try {
      const [before] = await accountsWith(first, email);
      // Even with another ADMIN_PASSWORD: an existing account's password is never overwritten.
      const second = await createTestApp({
        noSmtp: true,
        env: adminEnv(email, 'a different admin password 5678'),
        database: sharedDatabase(first.database),
      });
      await second.close();

      const after = await accountsWith(first, email);
      expect(after).toHaveLength(1);
      expect(after[0]!.passwordHash).toBe(before!.passwordHash);
      const adminRows = await first.app.db
        .select()
        .from(userRoles)
        .where(eq(userRoles.userId, before!.id));
      expect(adminRows.map((row) => row.roleName)).toEqual(['admin']);
      expect(await bootstrapEvents(first, before!.id)).toHaveLength(1);

      expect((await tryLogin(first, email, ADMIN_PASSWORD)).statusCode).toBe(200);
      expectProblem(
        await tryLogin(first, email, 'a different admin password 5678'),
        401,
        'invalid_credentials',
      );
    } finally {
      await first.close();
    }
  });

  it('gives an existing account the admin role and leaves its password and roles alone', async () => {
    const email = uniqueEmail('boot');
    const first = await createTestApp({ noSmtp: true });
    try {
      const existing = await createUser(first, ['homeowner'], { email, password: STRONG_PASSWORD });
      const second = await createTestApp({
        noSmtp: true,
        env: adminEnv(email),
        database: sharedDatabase(first.database),
      });
      await second.close();

      expect(await accountsWith(first, email)).toHaveLength(1);
      expect(await rolesInDatabase(first, existing.id)).toEqual(['admin', 'homeowner']);
      expect((await tryLogin(first, email, STRONG_PASSWORD)).statusCode).toBe(200);
      expectProblem(await tryLogin(first, email, ADMIN_PASSWORD), 401, 'invalid_credentials');
      expect(await bootstrapEvents(first, existing.id)).toEqual([
        { created: false, granted: true },
      ]);
    } finally {
      await first.close();
    }
  });

  it('matches the email case-insensitively', async () => {
    const email = uniqueEmail('boot');
    const first = await createTestApp({ noSmtp: true });
    try {
      const existing = await createUser(first, ['service_provider'], { email });
      const second = await createTestApp({
        noSmtp: true,
        env: adminEnv(email.toUpperCase()),
        database: sharedDatabase(first.database),
      });
      await second.close();
      expect(await accountsWith(first, email)).toHaveLength(1);
      expect(await rolesInDatabase(first, existing.id)).toEqual(['admin', 'service_provider']);
    } finally {
      await first.close();
    }
  });
});
