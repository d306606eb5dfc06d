import { and, desc, eq, inArray, like, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { userGrants, userRoles, users } from '../../db/schema.js';
import { canonicalEmail, canonicalEmailPrefix } from '../../lib/email.js';

/** The public shape of an account (never a hash or a token): the `User` resource of the contract. */
export interface UserView {
  id: string;
  email: string;
  fullName: string;
  phone: string | null;
  roles: string[];
  permissions: string[];
  emailVerified: boolean;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Not part of the `User` resource: with the roles and permissions, its ETag. */
  version: number;
}

const userViewColumns = {
  id: users.id,
  email: users.email,
  fullName: users.fullName,
  phone: users.phone,
  // The same source as the caller's roles on every request (users/caller.ts): user_grants.
  roles: sql<string[]>`coalesce(${userGrants.roles}, '{}')`,
  permissions: sql<string[]>`coalesce(${userGrants.permissions}, '{}')`,
  emailVerified: users.emailVerified,
  isActive: users.isActive,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  version: users.version,
};

export async function findUserView(db: Db, id: string): Promise<UserView | undefined> {
  const [row] = await db
    .select(userViewColumns)
    .from(users)
    .leftJoin(userGrants, eq(userGrants.userId, users.id))
    .where(eq(users.id, id));
  return row;
}

/** By any spelling of the address: it is looked up in its canonical form (none: no account). */
export async function findUserByEmail(db: Db, email: string) {
  const canonical = canonicalEmail(email);
  if (!canonical) return undefined;
  const [row] = await db.select().from(users).where(eq(users.email, canonical));
  return row;
}

export async function findUserById(db: Db, id: string) {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

export interface UserListFilter {
  email?: string;
  role?: string;
  limit: number;
  /** Id of the last user of the previous page (newest first). */
  after?: string;
}

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Newest first, keyset-paged on the time-ordered id; `email` matches a prefix. */
export async function listUsers(db: Db, filter: UserListFilter): Promise<UserView[]> {
  const conditions: SQL[] = [];
  if (filter.email)
    conditions.push(like(users.email, `${escapeLike(canonicalEmailPrefix(filter.email))}%`));
  if (filter.after) conditions.push(lt(users.id, filter.after));
  if (filter.role) {
    conditions.push(
      sql`exists (select 1 from ${userRoles} where ${userRoles.userId} = ${users.id} and ${userRoles.roleName} = ${filter.role})`,
    );
  }
  return db
    .select(userViewColumns)
    .from(users)
    .leftJoin(userGrants, eq(userGrants.userId, users.id))
    .where(and(...conditions))
    .orderBy(desc(users.id))
    .limit(filter.limit);
}

/*
 * The users table is written here and nowhere else (test/foundation/table-owners.test.ts): the
 * users service's flows, and those of auth and rbac that touch an account, go through these.
 */

/**
 * Every update of `users` goes through Drizzle here, so each one bumps the row's version in its own
 * statement (schema.ts, $onUpdate): the ETag of /users/me changes with whatever changes.
 * `expected` (If-Match) makes the profile update a compare-and-set on it: false when no row is
 * at one of those versions.
 */
export async function updateProfile(
  db: Db,
  id: string,
  changes: { fullName?: string; phone?: string | null },
  expected?: readonly number[],
): Promise<boolean> {
  const where =
    expected === undefined
      ? eq(users.id, id)
      : and(eq(users.id, id), inArray(users.version, [...expected]));
  const rows = await db.update(users).set(changes).where(where).returning({ id: users.id });
  return rows.length > 0;
}

/** Conflict-tolerant on the email: returns the new row, or nothing when the email is taken. */
export async function insertUser(db: Db, values: typeof users.$inferInsert) {
  const [row] = await db
    .insert(users)
    .values(values)
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id, fullName: users.fullName });
  return row;
}

export async function markEmailVerified(db: Db, id: string): Promise<void> {
  await db.update(users).set({ emailVerified: true }).where(eq(users.id, id));
}

/** A new password hash; `verified` also marks the email proven (a reset link was followed). */
export async function setPasswordHash(
  db: Db,
  id: string,
  passwordHash: string,
  options: { verified?: true } = {},
): Promise<void> {
  await db
    .update(users)
    .set({ passwordHash, ...(options.verified && { emailVerified: true }) })
    .where(eq(users.id, id));
}

/** Sets the password of an account still unverified and verifies it; false if it was verified. */
export async function claimUnverifiedUser(db: Db, id: string, passwordHash: string) {
  const rows = await db
    .update(users)
    .set({ passwordHash, emailVerified: true })
    .where(and(eq(users.id, id), eq(users.emailVerified, false)))
    .returning({ id: users.id });
  return rows.length > 0;
}

export async function setUserActive(db: Db, id: string, isActive: boolean): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ isActive })
    .where(eq(users.id, id))
    .returning({ id: users.id });
  return rows.length > 0;
}

/** Its sessions, tokens, roles, properties and services go with it, through foreign keys. */
export async function deleteUser(db: Db, id: string): Promise<void> {
  await db.delete(users).where(eq(users.id, id));
}

/**
 * Moves the account to a canonical address and marks it proven (its owner followed a link
 * mailed there). Throws the unique violation when another account holds it: the caller maps it.
 */
export async function setEmail(db: Db, id: string, email: string): Promise<void> {
  await db.update(users).set({ email, emailVerified: true }).where(eq(users.id, id));
}
