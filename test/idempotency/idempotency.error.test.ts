import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { type NoteRoutes, noteRoutes, notesOf } from './support.js';

let t: TestContext;
let notes: NoteRoutes;
let jane: TestUser;

beforeAll(async () => {
  const routes = noteRoutes();
  notes = routes.state;
  t = await createTestApp({ noSmtp: true, routes: routes.register });
  jane = await loginAs(t, ['homeowner']);
});
afterAll(() => t?.close());

async function claimed(key: string) {
  const rows = await t.app.db
    .select({ state: idempotencyKeys.state })
    .from(idempotencyKeys)
    .where(eq(idempotencyKeys.key, key));
  return rows[0]?.state === 'pending';
}

let keys = 0;
const newKey = () => `key-${Date.now()}-${++keys}`;

function post(payload: unknown, key?: string, url = '/test/notes', user: TestUser = jane) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { ...user.headers, ...(key !== undefined && { 'idempotency-key': key }) },
    payload: payload as object,
  });
}

describe('a bad Idempotency-Key', () => {
  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a tab', 'a\tb'],
    ['non-ASCII', 'clé'],
  ])('is 400 (%s), and nothing runs', async (_name, key) => {
    const runs = notes.runs;
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/notes',
      headers: { ...jane.headers, 'idempotency-key': Buffer.from(key, 'utf8').toString('latin1') },
      payload: { text: 'bad key' },
    });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors).toEqual([
      { path: '/headers/idempotency-key', message: 'must be 1 to 255 printable ASCII characters' },
    ]);
    expect(notes.runs).toBe(runs);
  });

  it('of 255 printable characters, spaces inside included, is fine', async () => {
    const key = `a b${'~'.repeat(252)}`;
    expect((await post({ text: 'long key' }, key)).statusCode).toBe(201);
    expect((await post({ text: 'long key' }, key)).headers['idempotent-replayed']).toBe('true');
  });
});

describe('a key reused for a different request', () => {
  it('with a different body is 422 idempotency_key_reused, and nothing runs', async () => {
    const key = newKey();
    expect((await post({ text: 'first' }, key)).statusCode).toBe(201);
    const runs = notes.runs;
    const before = await notesOf(t, jane.id);
    const res = await post({ text: 'second' }, key);
    expectProblem(res, 422, 'idempotency_key_reused');
    expect((await post({ text: 'first', tags: [] }, key)).statusCode).toBe(422);
    expect(notes.runs).toBe(runs);
    expect(await notesOf(t, jane.id)).toBe(before);
  });

  it('on another path is 422 too', async () => {
    const key = newKey();
    expect((await post({ text: 'here' }, key)).statusCode).toBe(201);
    expectProblem(
      await post({ text: 'here' }, key, '/test/other-notes'),
      422,
      'idempotency_key_reused',
    );
  });

  it('while the first is still running is 422 as well (not 409)', async () => {
    const key = newKey();
    const running = post({ text: 'slow', wait: true }, key);
    // Wait (bounded) until the first has claimed the key.
    for (let i = 0; i < 500 && !(await claimed(key)); i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await claimed(key)).toBe(true);
    expectProblem(await post({ text: 'fast' }, key), 422, 'idempotency_key_reused');
    const inUse = expectProblem(
      await post({ text: 'slow', wait: true }, key),
      409,
      'idempotency_key_in_use',
    );
    expect(inUse.detail).toMatch(/retry/);
    notes.openGate();
    expect((await running).statusCode).toBe(201);
  });
});

describe('a request refused before its handler', () => {
  it('claims nothing: a 400 body, then the corrected body with the same key, runs', async () => {
    const key = newKey();
    expectProblem(await post({ text: 'x', unknown: 1 }, key), 400, 'validation_failed');
    expectProblem(await post({ text: '' }, key), 400, 'validation_failed');
    const res = await post({ text: 'corrected' }, key);
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it('claims nothing without a token (401): the signed-in retry runs', async () => {
    const key = newKey();
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/test/notes',
      headers: { 'idempotency-key': key },
      payload: { text: 'anonymous' },
    });
    expectProblem(anonymous, 401, 'unauthorized');
    expect((await post({ text: 'anonymous' }, key)).headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('declaring it', () => {
  it('on a public route fails at start: keys are per user', async () => {
    await expect(
      createTestApp({
        noSmtp: true,
        routes: (app) =>
          app.post('/test/public', { config: { idempotent: true } }, async () => ({ ok: true })),
      }),
    ).rejects.toThrow(/needs a guard/);
  });

  it('puts the Idempotency-Key parameter, its errors and the replay header in the document', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = document.paths['/test/notes'].post;
    expect(operation.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
    expect(operation.responses['201'].headers['Idempotent-Replayed']).toEqual({
      $ref: '#/components/headers/IdempotentReplayed',
    });
    expect(document.components.parameters.IdempotencyKey).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
    // Routes that do not declare it say nothing of it.
    expect(JSON.stringify(document.paths['/homeowners/properties'])).not.toContain('Idempotency');
  });
});
