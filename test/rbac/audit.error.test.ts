import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { expectProblem, send } from './support.js';

/** GET /admin/audit-events with a query it cannot answer: 400 problems, never a 500. */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

describe('GET /admin/audit-events with a bad query', () => {
  it.each([
    ['a userId that is not a UUID', 'userId=42'],
    ['a type with characters no type has', 'type=ROLE%20GRANTED'],
    ['an empty type', 'type='],
    ['a cursor that is not one of ours', 'cursor=bm90LWEtY3Vyc29y'],
    ['limit=0', 'limit=0'],
    ['limit=101', 'limit=101'],
    ['an unknown parameter', 'actorId=0190d2b6-0000-7000-8000-000000000000'],
  ])('rejects %s with 400 validation_failed', async (_case, query) => {
    const res = await send(t, {
      method: 'GET',
      url: `/admin/audit-events?${query}`,
      headers: admin.headers,
    });
    expectProblem(res, 400, 'validation_failed');
  });
});
