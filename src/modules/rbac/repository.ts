import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { rolePermissions, roles, userRoles, users } from '../../db/schema.js';
import { conflict } from '../../lib/errors.js';

export const ADMIN_ROLE = 'admin';

export async function listRoles(db: Db) {
  const rows = await db
    .select({
      name: roles.name,
      description: roles.description,
      permission: rolePermissions.permissionName,
    })
    .from(roles)
    .leftJoin(rolePermissions, eq(rolePermissions.roleName, roles.name))
    .orderBy(asc(roles.name), asc(rolePermissions.permissionName));
  const byName = new Map<string, { name: string; description: string; permissions: string[] }>();
  for (const row of rows) {
    const role = byName.get(row.name) ?? {
      name: row.name,
      description: row.description,
      permissions: [],
    };
    if (row.permission) role.permissions.push(row.permission);
    byName.set(row.name, role);
  }
  return [...byName.values()];
}

export async function roleExists(db: Db, name: string): Promise<boolean> {
  const [row] = await db.select({ name: roles.name }).from(roles).where(eq(roles.name, name));
  return Boolean(row);
}

/** Idempotent: granting a role the user holds changes nothing. Returns whether it was new. */
export async function grantRole(tx: Db, userId: string, role: string): Promise<boolean> {
  const rows = await tx
    .insert(userRoles)
    .values({ userId, roleName: role })
    .onConflictDoNothing()
    .returning({ userId: userRoles.userId });
  return rows.length > 0;
}

export async function revokeRole(tx: Db, userId: string, role: string): Promise<boolean> {
  const rows = await tx
    .delete(userRoles)
    .where(and(eq(userRoles.userId, userId), eq(userRoles.roleName, role)))
    .returning({ userId: userRoles.userId });
  return rows.length > 0;
}

/**
 * Refuses a change that would leave no active admin (enabled and verified, so able to sign in). The admin rows are locked first, so two
 * admins demoting each other at once are serialised and the second sees the first's change.
 */
export async function assertNotLastAdmin(tx: Db, userId: string): Promise<void> {
  const result = (await tx.execute(sql`
    select ur.user_id as "userId"
      from ${userRoles} ur join ${users} u on u.id = ur.user_id
     where ur.role_name = ${ADMIN_ROLE} and u.is_active and u.email_verified
       for update of ur, u`)) as unknown as { rows: Array<{ userId: string }> };
  const activeAdmins = result.rows.map((row) => row.userId);
  if (activeAdmins.includes(userId) && activeAdmins.length <= 1) {
    throw conflict('This would remove the last active admin.');
  }
}
