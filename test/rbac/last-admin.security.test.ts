import { eq, sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres, POSTGRES_ONLY } from '../helpers/databases.js';
import { createUser } from '../helpers/users.js';
import {
  activeAdminIds,
  adminApi,
  auditRows,
  expectProblem,
  onlyAdmins,
  rolesInDatabase,
  send,
} from './support.js';

/**
 * The service never ends up without an active admin: not by demotion, not by disabling, not by
 * deleting an account, and not when two admins act against each other at the same moment.
 * Each test starts from a known admin population (onlyAdmins).
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

describe('the only active admin', () => {
  it('cannot remove their own admin role: 409 conflict, still admin', async () => {
    const [last] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.revoke(t, last!, last!.id, 'admin'), 409, 'conflict');
    expect(await activeAdminIds(t)).toEqual([last!.id]);
    const stillWorks = await send(t, {
      method: 'GET',
      url: '/admin/users',
      headers: last!.headers,
    });
    expect(stillWorks.statusCode).toBe(200);
  });

  it('cannot be disabled: 409 conflict, still active', async () => {
    const [last] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.setActive(t, last!, last!.id, false), 409, 'conflict');
    expect(await activeAdminIds(t)).toEqual([last!.id]);
  });

  it('cannot delete their own account: 409 conflict, account kept', async () => {
    const [last] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.deleteSelf(t, last!), 409, 'conflict');
    const [row] = await t.app.db.select().from(users).where(eq(users.id, last!.id));
    expect(row?.isActive).toBe(true);
    expect(await activeAdminIds(t)).toEqual([last!.id]);
  });

  it('is still the last one when the other admin is disabled', async () => {
    const [last] = await onlyAdmins(t, 1);
    await createUser(t, ['admin'], { isActive: false });
    expectProblem(await adminApi.revoke(t, last!, last!.id, 'admin'), 409, 'conflict');
    expectProblem(await adminApi.setActive(t, last!, last!.id, false), 409, 'conflict');
    expect(await activeAdminIds(t)).toEqual([last!.id]);
  });

  it('may still drop roles other than admin, and demote a disabled admin', async () => {
    const [last] = await onlyAdmins(t, 1);
    await adminApi.grant(t, last!, last!.id, 'homeowner');
    expect((await adminApi.revoke(t, last!, last!.id, 'homeowner')).statusCode).toBe(204);
    const dormant = await createUser(t, ['admin'], { isActive: false });
    expect((await adminApi.revoke(t, last!, dormant.id, 'admin')).statusCode).toBe(204);
    expect(await rolesInDatabase(t, last!.id)).toEqual(['admin']);
  });
});

describe('with two active admins', () => {
  it('one may remove the other’s admin role (204)', async () => {
    const [a, b] = await onlyAdmins(t, 2);
    expect((await adminApi.revoke(t, a!, b!.id, 'admin')).statusCode).toBe(204);
    expect(await activeAdminIds(t)).toEqual([a!.id]);
  });

  it('one may step down (204), after which the other is the last', async () => {
    const [a, b] = await onlyAdmins(t, 2);
    expect((await adminApi.revoke(t, a!, a!.id, 'admin')).statusCode).toBe(204);
    expectProblem(await adminApi.revoke(t, b!, b!.id, 'admin'), 409, 'conflict');
    expect(await activeAdminIds(t)).toEqual([b!.id]);
  });

  it('one may disable the other (200)', async () => {
    const [a, b] = await onlyAdmins(t, 2);
    expect((await adminApi.setActive(t, a!, b!.id, false)).statusCode).toBe(200);
    expect(await activeAdminIds(t)).toEqual([a!.id]);
  });

  it('one may delete their own account (204)', async () => {
    const [a, b] = await onlyAdmins(t, 2);
    expect((await adminApi.deleteSelf(t, a!)).statusCode).toBe(204);
    expect(await activeAdminIds(t)).toEqual([b!.id]);
  });
});

/**
 * Two admins acting against each other at once. Whichever request the database serves first
 * wins; the other is refused either by the last-admin guard (409: it passed the permission check
 * before the first committed, and the admin-row lock made it see the first one's change) or by
 * the permission check itself (403/401: it arrived after the first committed, when its caller was
 * no longer an active admin). Which of the two depends on scheduling: PGlite, one connection,
 * tends to run the requests one after the other. Either way one admin is left.
 */
describe('two admins acting against each other at the same moment', () => {
  const ROUNDS = 5;

  it(`removing each other’s admin role: one 204, the other refused, one admin left (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [a, b] = await onlyAdmins(t, 2);
      const answers = await Promise.all([
        adminApi.revoke(t, a!, b!.id, 'admin'),
        adminApi.revoke(t, b!, a!.id, 'admin'),
      ]);
      expect(outcomes(answers)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^(409 conflict|403 forbidden)$/), '204']),
      );
      expect(await activeAdminIds(t)).toHaveLength(1);
      const revoked = [
        ...(await auditRows(t, 'role.revoked', a!.id)),
        ...(await auditRows(t, 'role.revoked', b!.id)),
      ];
      expect(revoked).toHaveLength(1);
    }
  });

  it(`disabling each other: one 200, the other refused, one active admin left (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [a, b] = await onlyAdmins(t, 2);
      const answers = await Promise.all([
        adminApi.setActive(t, a!, b!.id, false),
        adminApi.setActive(t, b!, a!.id, false),
      ]);
      expect(outcomes(answers)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^(409 conflict|401 unauthorized)$/), '200']),
      );
      expect(await activeAdminIds(t)).toHaveLength(1);
    }
  });

  it(`both deleting their own accounts: one 204, one 409, one admin left (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [a, b] = await onlyAdmins(t, 2);
      const answers = await Promise.all([adminApi.deleteSelf(t, a!), adminApi.deleteSelf(t, b!)]);
      expect(outcomes(answers).sort()).toEqual(['204', '409 conflict']);
      expect(await activeAdminIds(t)).toHaveLength(1);
    }
  });
});

/**
 * The same races with the outcome pinned down: the test holds an exclusive lock on user_roles
 * and users while both requests run, waits (by asking pg_stat_activity, not by sleeping) until
 * both are blocked inside their transactions, then lets them go together. Both have passed the
 * permission check by then, so the guard alone decides: exactly one wins and the other gets 409.
 * PostgreSQL only: PGlite has a single connection, which the held transaction would monopolise.
 */

describe('two admins released at the same instant from a held lock (PostgreSQL)', () => {
  it.skipIf(!onPostgres)(
    `removing each other’s admin role: exactly one 204 and one 409 ${POSTGRES_ONLY}`,
    async () => {
      const [a, b] = await onlyAdmins(t, 2);
      const { answers, blocked } = await releasedTogether(() => [
        adminApi.revoke(t, a!, b!.id, 'admin'),
        adminApi.revoke(t, b!, a!.id, 'admin'),
      ]);
      expect(blocked).toBe(2);
      expect(outcomes(answers).sort()).toEqual(['204', '409 conflict']);
      expect(await activeAdminIds(t)).toHaveLength(1);
    },
  );

  it.skipIf(!onPostgres)(
    `disabling each other: exactly one 200 and one 409 ${POSTGRES_ONLY}`,
    async () => {
      const [a, b] = await onlyAdmins(t, 2);
      const { answers, blocked } = await releasedTogether(() => [
        adminApi.setActive(t, a!, b!.id, false),
        adminApi.setActive(t, b!, a!.id, false),
      ]);
      expect(blocked).toBe(2);
      expect(outcomes(answers).sort()).toEqual(['200', '409 conflict']);
      expect(await activeAdminIds(t)).toHaveLength(1);
    },
  );
});

/** `204`, or `409 conflict` for a problem: what a response says, in one comparable string. */
function outcomes(answers: LightMyRequestResponse[]): string[] {
  return answers.map((res) =>
    res.statusCode < 400 ? String(res.statusCode) : `${res.statusCode} ${res.json().code}`,
  );
}

/**
 * Starts the requests while this test holds `lock table user_roles, users in exclusive mode`
 * (plain reads, such as the permission check, still go through), waits until `count` backends
 * are blocked behind the lock or the requests have finished anyway, then commits.
 */
async function releasedTogether(
  start: () => Array<Promise<LightMyRequestResponse>>,
  count = 2,
): Promise<{ answers: LightMyRequestResponse[]; blocked: number }> {
  const held = await t.app.db.transaction(async (tx) => {
    await tx.execute(sql`lock table user_roles, users in exclusive mode`);
    const me = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as {
      rows: Array<{ pid: number }>;
    };
    const pid = me.rows[0]!.pid;
    let settled = false;
    const all = Promise.all(start()).finally(() => {
      settled = true;
    });
    let blocked = 0;
    while (!settled && blocked < count) {
      const waiting = (await t.app.db.execute(
        sql`select count(*)::int as n from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`,
      )) as unknown as { rows: Array<{ n: number }> };
      blocked = waiting.rows[0]!.n;
    }
    // Returned in an object, so that committing does not wait for the requests it is holding.
    return { all, blocked };
  });
  return { answers: await held.all, blocked: held.blocked };
}
