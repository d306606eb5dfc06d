import { and, desc, eq, like, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { userRoles, users } from '../../db/schema.js';
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
}

const userViewColumns = {
  id: users.id,
  email: users.email,
  fullName: users.fullName,
  phone: users.phone,
  roles: sql<
    string[]
  >`array(select ur.role_name from user_roles ur where ur.user_id = ${users.id} order by 1)`,
  permissions: sql<string[]>`array(select distinct rp.permission_name from user_roles ur
      join role_permissions rp on rp.role_name = ur.role_name where ur.user_id = ${users.id} order by 1)`,
  emailVerified: users.emailVerified,
  isActive: users.isActive,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

export async function findUserView(db: Db, id: string): Promise<UserView | undefined> {
  const [row] = await db.select(userViewColumns).from(users).where(eq(users.id, id));
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
    .where(and(...conditions))
    .orderBy(desc(users.id))
    .limit(filter.limit);
}

export async function updateProfile(
  db: Db,
  id: string,
  changes: { fullName?: string; phone?: string | null },
): Promise<void> {
  await db.update(users).set(changes).where(eq(users.id, id));
}
