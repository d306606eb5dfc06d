import { randomBytes } from 'node:crypto';
import { userRoles, users } from '../../src/db/schema.js';
import type { TestContext } from './app.js';

export const STRONG_PASSWORD = 'correct horse battery staple 42';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `{ authorization: 'Bearer …' }` for inject calls. */
  headers: { authorization: string };
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Inserts a verified, active user with the given roles straight into the database. */
export async function createUser(
  t: TestContext,
  roles: string[] = ['homeowner'],
  overrides: {
    email?: string;
    password?: string;
    fullName?: string;
    emailVerified?: boolean;
    isActive?: boolean;
  } = {},
): Promise<{ id: string; email: string; password: string }> {
  const email = (overrides.email ?? uniqueEmail(roles[0] ?? 'user')).toLowerCase();
  const password = overrides.password ?? STRONG_PASSWORD;
  const [row] = await t.app.db
    .insert(users)
    .values({
      email,
      fullName: overrides.fullName ?? 'Test User',
      passwordHash: await t.app.passwords.hash(password),
      emailVerified: overrides.emailVerified ?? true,
      isActive: overrides.isActive ?? true,
    })
    .returning({ id: users.id });
  if (!row) throw new Error('user insert failed');
  if (roles.length > 0) {
    await t.app.db
      .insert(userRoles)
      .values(roles.map((roleName) => ({ userId: row.id, roleName })));
  }
  return { id: row.id, email, password };
}

/** Logs in through the API and returns the tokens with ready-made headers. */
export async function login(
  t: TestContext,
  email: string,
  password: string,
): Promise<TestUser & { id: string }> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  const me = await t.app.inject({
    method: 'GET',
    url: '/users/me',
    headers: { authorization: `Bearer ${body.access_token}` },
  });
  return {
    id: me.json().id,
    email,
    password,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    headers: { authorization: `Bearer ${body.access_token}` },
  };
}

/** A signed-in user holding `roles` (none for a user without any role). */
export async function loginAs(t: TestContext, roles: string[] = ['homeowner']): Promise<TestUser> {
  const user = await createUser(t, roles);
  return login(t, user.email, user.password);
}
