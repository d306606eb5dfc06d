import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres, POSTGRES_ONLY } from '../helpers/databases.js';
import { createUser, loginAs } from '../helpers/users.js';

/**
 * The auth query reads each user's roles and permissions from user_grants, which triggers keep
 * in step with user_roles and role_permissions inside the changing transaction. These tests
 * change those tables behind the API's back (as a migration or an operator would) and race two
 * grants, and check that the next request, and the table, see exactly what the sources say.
 */
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

type Grants = { roles: string[]; permissions: string[] };
async function grantsOf(userId: string): Promise<Grants | undefined> {
  const result = (await t.app.db.execute(
    sql`select roles, permissions from user_grants where user_id = ${userId}`,
  )) as unknown as { rows: Grants[] };
  return result.rows[0];
}

/** What user_roles and role_permissions say, computed independently of the triggers. */
async function expectedGrants(userId: string): Promise<Grants> {
  const result = (await t.app.db.execute(sql`
    select coalesce((select array_agg(role_name order by role_name) from user_roles
                      where user_id = ${userId}), '{}') as roles,
           coalesce((select array_agg(distinct rp.permission_name order by rp.permission_name)
                       from user_roles ur join role_permissions rp using (role_name)
                      where ur.user_id = ${userId}), '{}') as permissions`)) as unknown as {
    rows: Grants[];
  };
  return result.rows[0]!;
}

const listUsers = (headers: Record<string, string>) =>
  t.app.inject({ method: 'GET', url: '/admin/users', headers });

describe('a role’s permissions changed by hand reach every holder on the next request', () => {
  it('granted, then taken back', async () => {
    const homeowner = await loginAs(t, ['homeowner']);
    expect((await listUsers(homeowner.headers)).statusCode).toBe(403);

    await t.app.db.execute(
      sql`insert into role_permissions (role_name, permission_name) values ('homeowner', 'users:read')`,
    );
    expect((await listUsers(homeowner.headers)).statusCode).toBe(200);
    expect(await grantsOf(homeowner.id)).toEqual(await expectedGrants(homeowner.id));

    await t.app.db.execute(
      sql`delete from role_permissions where role_name = 'homeowner' and permission_name = 'users:read'`,
    );
    expect((await listUsers(homeowner.headers)).statusCode).toBe(403);
    expect(await grantsOf(homeowner.id)).toEqual(await expectedGrants(homeowner.id));
  });
});

describe('roles changed by hand', () => {
  it('a role added and removed in SQL is in the grants, then gone', async () => {
    const user = await createUser(t, ['homeowner']);
    await t.app.db.execute(
      sql`insert into user_roles (user_id, role_name) values (${user.id}, 'service_provider')`,
    );
    expect((await grantsOf(user.id))?.roles).toEqual(['homeowner', 'service_provider']);
    expect((await grantsOf(user.id))?.permissions).toContain('services:write');

    await t.app.db.execute(sql`delete from user_roles where user_id = ${user.id}`);
    expect(await grantsOf(user.id)).toEqual({ roles: [], permissions: [] });
  });

  it('a deleted user takes the grants row along, and the cascade raises no error', async () => {
    const user = await createUser(t, ['homeowner', 'service_provider']);
    expect(await grantsOf(user.id)).toEqual(await expectedGrants(user.id));
    await t.app.db.execute(sql`delete from users where id = ${user.id}`);
    expect(await grantsOf(user.id)).toBeUndefined();
  });
});

describe('two transactions granting one user different roles at once (PostgreSQL)', () => {
  it.skipIf(!onPostgres)(`both roles end up in the grants ${POSTGRES_ONLY}`, async () => {
    const user = await createUser(t, ['homeowner']);
    const first = new pg.Client({ connectionString: t.databaseUrl });
    const second = new pg.Client({ connectionString: t.databaseUrl });
    await first.connect();
    await second.connect();
    try {
      const grant = (client: pg.Client, role: string) =>
        client.query('insert into user_roles (user_id, role_name) values ($1, $2)', [
          user.id,
          role,
        ]);
      await first.query('begin');
      await grant(first, 'service_provider');
      await second.query('begin');
      const secondGrant = grant(second, 'admin');
      // The second transaction's trigger waits for the first's lock on the grants row: asked of
      // pg_stat_activity, not slept on.
      const firstPid = (await first.query<{ pid: number }>('select pg_backend_pid() as pid'))
        .rows[0]!.pid;
      for (;;) {
        const { rows } = await first.query<{ n: number }>(
          'select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
          [firstPid],
        );
        if (rows[0]!.n > 0) break;
      }
      await first.query('commit');
      await secondGrant;
      await second.query('commit');
    } finally {
      await first.end();
      await second.end();
    }
    const grants = await grantsOf(user.id);
    expect(grants?.roles).toEqual(['admin', 'homeowner', 'service_provider']);
    expect(grants).toEqual(await expectedGrants(user.id));
  });
});
