import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userRoles, users } from '../../src/db/schema.js';
import { expectProblem, expectUnauthorized, GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, type TestUser } from '../helpers/users.js';

/**
 * PUT and PATCH /users/me take `fullName` and `phone` only. Anything else in the body is 400,
 * and the database row is left exactly as it was (no mass assignment).
 */

let t: TestContext;
let user: TestUser;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
  const account = await createUser(t, ['homeowner'], { fullName: 'Unchanged Name' });
  user = await login(t, account.email, account.password);
});
afterAll(() => t.close());

const update = (method: 'PUT' | 'PATCH', payload: unknown) =>
  t.app.inject({
    method,
    url: '/users/me',
    headers: user.headers,
    payload: payload as Record<string, unknown>,
  });

async function snapshot() {
  const [row] = await t.app.db.select().from(users).where(eq(users.id, user.id));
  const roles = await t.app.db.select().from(userRoles).where(eq(userRoles.userId, user.id));
  return { row, roles: roles.map((role) => role.roleName) };
}

const FORBIDDEN_FIELDS: Array<[string, unknown]> = [
  ['email', 'hijack@example.com'],
  ['roles', ['admin']],
  ['permissions', ['users:manage']],
  ['id', '0190a5c4-0000-7000-8000-000000000000'],
  ['emailVerified', false],
  ['isActive', false],
  ['passwordHash', '$2b$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234'],
  ['createdAt', '2000-01-01T00:00:00.000Z'],
  ['__proto__', { admin: true }],
];

describe.each(['PUT', 'PATCH'] as const)('%s /users/me refuses other fields with 400', (method) => {
  it.each(FORBIDDEN_FIELDS)('%s, and the row is unchanged', async (field, value) => {
    const before = await snapshot();
    const body = JSON.parse(
      JSON.stringify({ fullName: 'Attempted Change', phone: null }).replace(
        /}$/,
        `,${JSON.stringify(field)}:${JSON.stringify(value)}}`,
      ),
    );
    const res = await update(method, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    expect(await snapshot()).toEqual(before);
    expect(before.row?.fullName).toBe('Unchanged Name');
  });
});

describe('invalid values → 400 validation_failed', () => {
  it.each([
    ['PUT without phone', 'PUT', { fullName: 'Name' }],
    ['PUT without fullName', 'PUT', { phone: null }],
    ['PATCH with nothing', 'PATCH', {}],
    ['an empty fullName', 'PATCH', { fullName: '' }],
    ['a blank fullName', 'PATCH', { fullName: '    ' }],
    ['a fullName over 100 characters', 'PATCH', { fullName: 'n'.repeat(101) }],
    ['a null fullName', 'PATCH', { fullName: null }],
    ['a phone with letters', 'PATCH', { phone: 'call me maybe' }],
    ['a phone too short', 'PATCH', { phone: '1' }],
    ['a phone too long', 'PATCH', { phone: '1'.repeat(33) }],
    ['a phone as a number', 'PATCH', { phone: 5550100 }],
    ['an array body', 'PATCH', [{ fullName: 'x' }]],
  ] as const)('%s', async (_label, method, body) => {
    const before = await snapshot();
    expectProblem(await update(method, body), 400, 'validation_failed');
    expect(await snapshot()).toEqual(before);
  });
});

describe('without a valid bearer token → 401', () => {
  it.each(['GET', 'PUT', 'PATCH', 'DELETE'] as const)('%s /users/me', async (method) => {
    expectUnauthorized(
      await t.app.inject({ method, url: '/users/me', payload: { fullName: 'x', phone: null } }),
    );
  });
});
