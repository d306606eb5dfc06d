import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { postgresDatabase } from '../../src/db/client.js';
import { auditEvents, userRoles, users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import {
  onPostgres,
  POSTGRES_ONLY,
  postgresDatabaseUrl,
  sharedDatabase,
} from '../helpers/databases.js';
import { silentLogger } from '../helpers/logs.js';
import { createUser, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { expectProblem, send } from './support.js';

/**
 * The bootstrap admin under pressure: instances starting at the same moment, and an account that
 * someone else registered with the admin email before the operator configured it.
 */

const ADMIN_PASSWORD = 'a long admin password 1234';

async function adminState(t: TestContext, email: string) {
  const accounts = await t.app.db.select().from(users).where(eq(users.email, email));
  const grants = await t.app.db.select().from(userRoles).where(eq(userRoles.roleName, 'admin'));
  const bootstrapped = await t.app.db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.type, 'admin.bootstrapped'));
  return {
    accounts: accounts.length,
    adminGrants: grants.filter((grant) => grant.userId === accounts[0]?.id).length,
    bootstrapEvents: bootstrapped.length,
  };
}

describe('instances starting at once', { timeout: 120_000 }, () => {
  it.skipIf(!onPostgres)(
    `two instances with pools of their own: one account, one admin grant ${POSTGRES_ONLY}`,
    async () => {
      const email = uniqueEmail('race');
      const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD };
      const { url, drop } = await postgresDatabaseUrl();
      try {
        const config = testConfig(env);
        const [one, two] = await Promise.all([
          createTestApp({
            noSmtp: true,
            env,
            database: postgresDatabase(config, silentLogger(), url),
          }),
          createTestApp({
            noSmtp: true,
            env,
            database: postgresDatabase(config, silentLogger(), url),
          }),
        ]);
        try {
          expect(await adminState(one, email)).toEqual({
            accounts: 1,
            adminGrants: 1,
            bootstrapEvents: 1,
          });
          const login = await send(two, {
            method: 'POST',
            url: '/auth/login',
            payload: { email, password: ADMIN_PASSWORD },
          });
          expect(login.statusCode).toBe(200);
        } finally {
          await Promise.all([one.close(), two.close()]);
        }
      } finally {
        await drop();
      }
    },
  );

  it('two instances sharing one database (either driver): one account, one admin grant', async () => {
    const email = uniqueEmail('race');
    const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD };
    const base = await createTestApp({ noSmtp: true });
    try {
      const [one, two] = await Promise.all([
        createTestApp({ noSmtp: true, env, database: sharedDatabase(base.database) }),
        createTestApp({ noSmtp: true, env, database: sharedDatabase(base.database) }),
      ]);
      await Promise.all([one.close(), two.close()]);
      expect(await adminState(base, email)).toEqual({
        accounts: 1,
        adminGrants: 1,
        bootstrapEvents: 1,
      });
    } finally {
      await base.close();
    }
  });
});

/**
 * Someone registers the admin's email before the operator sets ADMIN_EMAIL. That account's
 * password was chosen by whoever registered it and was never proven to belong to the mailbox's
 * owner: granting it admin as it is would hand the squatter an admin login the moment the
 * verification link in the owner's inbox is followed. The bootstrap therefore claims an
 * unverified account: the operator's ADMIN_PASSWORD replaces the squatter's, and it is verified.
 */
describe('an unverified account already holding the admin email', { timeout: 120_000 }, () => {
  it('is claimed: ADMIN_PASSWORD works, the squatter’s password does not', async () => {
    const email = uniqueEmail('squat');
    const squatterPassword = 'squatter chose this password 99';
    const first = await createTestApp({ noSmtp: true });
    try {
      const squatter = await createUser(first, ['homeowner'], {
        email,
        password: squatterPassword,
        emailVerified: false,
      });
      const second = await createTestApp({
        noSmtp: true,
        env: { ADMIN_EMAIL: email, ADMIN_PASSWORD },
        database: sharedDatabase(first.database),
      });
      await second.close();

      const [account] = await first.app.db.select().from(users).where(eq(users.id, squatter.id));
      expect(account).toMatchObject({ emailVerified: true, isActive: true });
      const login = (password: string) =>
        send(first, { method: 'POST', url: '/auth/login', payload: { email, password } });
      expect((await login(ADMIN_PASSWORD)).statusCode).toBe(200);
      expectProblem(await login(squatterPassword), 401, 'invalid_credentials');
      const [event] = await first.app.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.subjectId, squatter.id));
      expect(event).toMatchObject({
        type: 'admin.bootstrapped',
        data: { created: false, granted: true, claimed: true },
      });
    } finally {
      await first.close();
    }
  });

  it('a verified account is not claimed: it keeps its own password', async () => {
    const email = uniqueEmail('owner');
    const first = await createTestApp({ noSmtp: true });
    try {
      await createUser(first, ['homeowner'], { email, password: STRONG_PASSWORD });
      const second = await createTestApp({
        noSmtp: true,
        env: { ADMIN_EMAIL: email, ADMIN_PASSWORD },
        database: sharedDatabase(first.database),
      });
      await second.close();
      const login = (password: string) =>
        send(first, { method: 'POST', url: '/auth/login', payload: { email, password } });
      expect((await login(STRONG_PASSWORD)).statusCode).toBe(200);
      expectProblem(await login(ADMIN_PASSWORD), 401, 'invalid_credentials');
    } finally {
      await first.close();
    }
  });
});
