import { and, eq } from 'drizzle-orm';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { auditEvents, userRoles, users } from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';

/** The roles of the contract and the permissions the seed migration grants them. */
export type RoleName = 'homeowner' | 'service_provider' | 'admin';

export const ALL_PERMISSIONS = [
  'audit:read',
  'bookings:manage',
  'bookings:read',
  'bookings:write',
  'catalog:read',
  'feed:read',
  'properties:read',
  'properties:write',
  'quotes:write',
  'requests:read',
  'requests:write',
  'reviews:manage',
  'reviews:read',
  'reviews:write',
  'roles:assign',
  'services:read',
  'services:write',
  'users:manage',
  'users:read',
];

export const SEEDED_PERMISSIONS: Record<RoleName, string[]> = {
  admin: ALL_PERMISSIONS,
  homeowner: [
    'bookings:read',
    'bookings:write',
    'catalog:read',
    'properties:read',
    'properties:write',
    'requests:read',
    'requests:write',
    'reviews:read',
    'reviews:write',
  ],
  service_provider: [
    'bookings:read',
    'bookings:write',
    'catalog:read',
    'feed:read',
    'quotes:write',
    'reviews:read',
    'reviews:write',
    'services:read',
    'services:write',
  ],
};

/** Whether a user holding `roles` has `permission`, per the seed. */
export function grants(roles: readonly RoleName[], permission: string): boolean {
  return roles.some((role) => SEEDED_PERMISSIONS[role].includes(permission));
}

/** Keys that must never appear in a response body, at any depth. */
export const SECRET_KEYS = ['passwordHash', 'password_hash', 'tokenHash', 'token_hash', 'password'];

/** Every path at which `value` holds a key of SECRET_KEYS. */
export function secretKeysIn(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => secretKeysIn(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [
    ...(SECRET_KEYS.includes(key) ? [`${path}.${key}`] : []),
    ...secretKeysIn(child, `${path}.${key}`),
  ]);
}

/**
 * The API description documents request bodies, `password` fields included: it describes
 * inputs rather than returning data, so it is the one JSON body the scan leaves alone.
 */
const API_DESCRIPTIONS = new Set(['/openapi.json', '/docs/json']);

/**
 * `app.inject`, plus the data-exposure check every test of this suite gets for free: a JSON body
 * (problem+json included) holding a password, a hash or a token hash fails the test at once.
 */
export async function send(
  t: Pick<TestContext, 'app'>,
  options: InjectOptions & { method: string; url: string },
): Promise<LightMyRequestResponse> {
  const res = await t.app.inject(options);
  const type = String(res.headers['content-type'] ?? '');
  const path = options.url.split('?')[0] ?? '';
  if (/json/.test(type) && res.body.length > 0 && !API_DESCRIPTIONS.has(path)) {
    expect(secretKeysIn(JSON.parse(res.body)), `${options.method} ${options.url}`).toEqual([]);
  }
  return res;
}

export { expectProblem, expectUnauthorized } from '../helpers/problems.js';

type Caller = Pick<TestUser, 'headers'>;

export const adminApi = {
  grant: (t: TestContext, by: Caller, userId: string, role: string, requestId?: string) =>
    send(t, {
      method: 'POST',
      url: `/admin/users/${userId}/roles`,
      headers: { ...by.headers, ...(requestId && { 'x-request-id': requestId }) },
      payload: { role },
    }),
  revoke: (t: TestContext, by: Caller, userId: string, role: string, requestId?: string) =>
    send(t, {
      method: 'DELETE',
      url: `/admin/users/${userId}/roles/${role}`,
      headers: { ...by.headers, ...(requestId && { 'x-request-id': requestId }) },
    }),
  setActive: (t: TestContext, by: Caller, userId: string, isActive: boolean, requestId?: string) =>
    send(t, {
      method: 'PATCH',
      url: `/admin/users/${userId}`,
      headers: { ...by.headers, ...(requestId && { 'x-request-id': requestId }) },
      payload: { isActive },
    }),
  deleteSelf: (t: TestContext, by: TestUser) =>
    send(t, {
      method: 'DELETE',
      url: '/users/me',
      headers: by.headers,
      payload: { password: by.password },
    }),
};

/** The roles a user holds, read from the database. */
export async function rolesInDatabase(t: TestContext, userId: string): Promise<string[]> {
  const rows = await t.app.db
    .select({ role: userRoles.roleName })
    .from(userRoles)
    .where(eq(userRoles.userId, userId));
  return rows.map((row) => row.role).sort();
}

/** Ids of the active users holding admin, read from the database. */
export async function activeAdminIds(t: TestContext): Promise<string[]> {
  const rows = await t.app.db
    .select({ id: users.id })
    .from(users)
    .innerJoin(userRoles, eq(userRoles.userId, users.id))
    .where(and(eq(userRoles.roleName, 'admin'), eq(users.isActive, true)));
  return rows.map((row) => row.id).sort();
}

/** Audit rows of one type about one subject, read from the database (oldest first). */
export async function auditRows(t: TestContext, type: string, subjectId: string) {
  const rows = await t.app.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.type, type), eq(auditEvents.subjectId, subjectId)));
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Sets the stage for a last-admin test: nobody holds admin any more (straight in the database),
 * then `count` fresh, signed-in admins exist. The test then knows the whole admin population.
 */
export async function onlyAdmins(t: TestContext, count: number): Promise<TestUser[]> {
  await t.app.db.delete(userRoles).where(eq(userRoles.roleName, 'admin'));
  const admins: TestUser[] = [];
  for (let i = 0; i < count; i++) admins.push(await loginAs(t, ['admin']));
  return admins;
}
