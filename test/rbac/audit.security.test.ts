import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, loginAs } from '../helpers/users.js';
import { adminApi, auditRows, expectProblem, onlyAdmins } from './support.js';

/**
 * The audit row is written in the same transaction as the change it describes: a change that is
 * refused or rolled back leaves no trace claiming it happened.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

const rowsAbout = (subjectId: string) =>
  t.app.db.select().from(auditEvents).where(eq(auditEvents.subjectId, subjectId));

describe('no audit row for a change that did not happen', () => {
  it('the refused last-admin demotion (409) leaves no role.revoked row', async () => {
    const [last] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.revoke(t, last!, last!.id, 'admin'), 409, 'conflict');
    expect(await auditRows(t, 'role.revoked', last!.id)).toEqual([]);
  });

  it('the refused last-admin disable (409) leaves no user.disabled row', async () => {
    const [last] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.setActive(t, last!, last!.id, false), 409, 'conflict');
    expect(await auditRows(t, 'user.disabled', last!.id)).toEqual([]);
  });

  it('the refused last-admin account deletion (409) leaves no user.deleted row', async () => {
    const [last] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.deleteSelf(t, last!), 409, 'conflict');
    expect(await auditRows(t, 'user.deleted', last!.id)).toEqual([]);
  });

  it('a grant to an account that does not exist (404) leaves no row', async () => {
    const ghost = randomUUID();
    const [current] = await onlyAdmins(t, 1);
    expectProblem(await adminApi.grant(t, current!, ghost, 'homeowner'), 404, 'not_found');
    expectProblem(await adminApi.revoke(t, current!, ghost, 'homeowner'), 404, 'not_found');
    expectProblem(await adminApi.setActive(t, current!, ghost, false), 404, 'not_found');
    expect(await rowsAbout(ghost)).toEqual([]);
  });

  it('a grant of a role that does not exist (400) leaves no row', async () => {
    const [current] = await onlyAdmins(t, 1);
    const user = await createUser(t, ['homeowner']);
    expectProblem(
      await adminApi.grant(t, current!, user.id, 'superuser'),
      400,
      'validation_failed',
    );
    expect(await rowsAbout(user.id)).toEqual([]);
  });

  it('a forbidden attempt (403) leaves no row about its target', async () => {
    const user = await createUser(t, ['homeowner']);
    const intruder = await loginAs(t, ['homeowner', 'service_provider']);
    expectProblem(await adminApi.grant(t, intruder, user.id, 'admin'), 403, 'forbidden');
    expectProblem(await adminApi.setActive(t, intruder, user.id, false), 403, 'forbidden');
    expect(await rowsAbout(user.id)).toEqual([]);
  });

  it('a repeated grant or a revoke of a role not held records nothing new', async () => {
    const user = await createUser(t, ['homeowner']);
    const [current] = await onlyAdmins(t, 1);
    await adminApi.grant(t, current!, user.id, 'homeowner');
    await adminApi.revoke(t, current!, user.id, 'service_provider');
    expect(await rowsAbout(user.id)).toEqual([]);
  });
});
