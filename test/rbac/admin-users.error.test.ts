import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, loginAs, type TestUser } from '../helpers/users.js';
import { expectProblem, send } from './support.js';

/** GET/PATCH /admin/users: what a malformed request gets (always a 400/404 problem, never a 500). */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

const get = (url: string) => send(t, { method: 'GET', url, headers: admin.headers });
const patch = (id: string, payload: unknown) =>
  send(t, {
    method: 'PATCH',
    url: `/admin/users/${id}`,
    headers: admin.headers,
    payload: payload as object,
  });

describe('GET /admin/users with a bad query', () => {
  it.each([
    ['a cursor that is not one of ours', 'cursor=bm90LWEtY3Vyc29y'],
    ['a cursor with characters a cursor never has', 'cursor=%21%21%21'],
    ['limit=0', 'limit=0'],
    ['limit=101', 'limit=101'],
    ['a limit that is not a number', 'limit=ten'],
    ['an empty email filter', 'email='],
    ['a role name that cannot be one', 'role=Admin%21'],
    ['an unknown parameter', 'sort=email'],
  ])('rejects %s with 400 validation_failed', async (_case, query) => {
    expectProblem(await get(`/admin/users?${query}`), 400, 'validation_failed');
  });

  it('accepts the bounds limit=1 and limit=100', async () => {
    expect((await get('/admin/users?limit=1')).statusCode).toBe(200);
    expect((await get('/admin/users?limit=100')).statusCode).toBe(200);
  });

  it('names the field at fault', async () => {
    const res = await get('/admin/users?limit=101');
    expect(res.json().errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining('limit') })]),
    );
  });
});

describe('GET /admin/users/{id}', () => {
  it('answers 404 not_found for an id no account has', async () => {
    expectProblem(await get(`/admin/users/${randomUUID()}`), 404, 'not_found');
  });

  it.each(['not-a-uuid', '123', `${randomUUID()}x`])(
    'answers 400 validation_failed for the malformed id %s',
    async (id) => {
      expectProblem(await get(`/admin/users/${id}`), 400, 'validation_failed');
    },
  );
});

describe('PATCH /admin/users/{id} with a bad body', () => {
  it.each([
    ['an unknown field beside isActive', { isActive: false, email: 'new@example.com' }],
    ['a role list (no mass assignment)', { isActive: true, roles: ['admin'] }],
    ['emailVerified', { emailVerified: true }],
    ['isActive as a string', { isActive: 'false' }],
    ['isActive as a number', { isActive: 0 }],
    ['isActive null', { isActive: null }],
    ['an empty body', {}],
  ])('rejects %s with 400 and leaves the account as it was', async (_case, body) => {
    const user = await createUser(t, ['homeowner'], { emailVerified: false });
    expectProblem(await patch(user.id, body), 400, 'validation_failed');
    const [row] = await t.app.db.select().from(users).where(eq(users.id, user.id));
    expect(row).toMatchObject({ isActive: true, emailVerified: false, email: user.email });
  });

  it('answers 404 not_found for an unknown account', async () => {
    expectProblem(await patch(randomUUID(), { isActive: false }), 404, 'not_found');
  });

  it('answers 400 for a malformed id', async () => {
    expectProblem(await patch('nope', { isActive: false }), 400, 'validation_failed');
  });
});
