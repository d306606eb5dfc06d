import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs, type TestUser } from '../helpers/users.js';

let t: TestContext;
let jane: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  jane = await loginAs(t, ['homeowner']);
});
afterAll(() => t?.close());

describe('POST /notifications/read refuses', () => {
  const cases: Array<[string, unknown]> = [
    ['an empty body', {}],
    ['ids and all together', { ids: [randomUUID()], all: true }],
    ['all: false', { all: false }],
    ['an empty ids list', { ids: [] }],
    ['more than 100 ids', { ids: Array.from({ length: 101 }, () => randomUUID()) }],
    ['an id that is not a UUID', { ids: ['nope'] }],
    [
      'the same id twice',
      { ids: ['0190a3c2-0000-7000-8000-000000000001', '0190a3c2-0000-7000-8000-000000000001'] },
    ],
    ['an unknown field', { ids: [randomUUID()], userId: randomUUID() }],
    ['ids as a string', { ids: randomUUID() }],
  ];
  for (const [what, payload] of cases) {
    it(what, async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/notifications/read',
        headers: jane.headers,
        payload: payload as object,
      });
      expectProblem(res, 400, 'validation_failed');
    });
  }
});

describe('GET /notifications refuses', () => {
  for (const query of [
    'limit=0',
    'limit=101',
    'cursor=!!',
    'cursor=bm90LWEtdXVpZA',
    'unread=maybe',
    'kind=x',
  ]) {
    it(query, async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/notifications?${query}`,
        headers: jane.headers,
      });
      expectProblem(res, 400, 'validation_failed');
    });
  }
});

describe('PUT /users/me/notification-settings refuses', () => {
  const cases: Array<[string, unknown]> = [
    ['no mail object', {}],
    ['a security kind (always mailed)', { mail: { 'security.password_changed': false } }],
    ['an unknown kind', { mail: { 'nope.nope': true } }],
    ['a flag that is not a boolean', { mail: { 'booking.updated': 'yes' } }],
    ['mail as an array', { mail: [] }],
  ];
  for (const [what, payload] of cases) {
    it(what, async () => {
      const res = await t.app.inject({
        method: 'PUT',
        url: '/users/me/notification-settings',
        headers: jane.headers,
        payload: payload as object,
      });
      expectProblem(res, 400, 'validation_failed');
    });
  }
});
