import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimKey } from '../../src/kernel/idempotency.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { login, loginAs, type TestUser } from '../helpers/users.js';
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

let keys = 0;
const newKey = () => `key-${Date.now()}-${++keys}`;

function post(user: TestUser, payload: object, key?: string, url = '/test/notes') {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { ...user.headers, ...(key !== undefined && { 'idempotency-key': key }) },
    payload,
  });
}

describe('Idempotency-Key', () => {
  it('without a key, every POST is a new effect', async () => {
    const before = await notesOf(t, jane.id);
    const first = await post(jane, { text: 'no key' });
    const second = await post(jane, { text: 'no key' });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(first.json().id).not.toBe(second.json().id);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await notesOf(t, jane.id)).toBe(before + 2);
  });

  it('a replay returns the first answer (status, body, Location) without running the handler', async () => {
    const key = newKey();
    const before = await notesOf(t, jane.id);
    const first = await post(jane, { text: 'once', tags: ['a', 'b'] }, key);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const runs = notes.runs;

    // The same body with its members in another order is the same request.
    const replay = await post(jane, { tags: ['a', 'b'], text: 'once' }, key);
    expect(replay.statusCode).toBe(201);
    expect(replay.body).toBe(first.body);
    expect(replay.headers.location).toBe(first.headers.location);
    expect(replay.headers['content-type']).toBe(first.headers['content-type']);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    // Its own request id, like any answer.
    expect(replay.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(notes.runs).toBe(runs);
    expect(await notesOf(t, jane.id)).toBe(before + 1);
  });

  it('keys are per user: another user with the same key gets an effect of their own', async () => {
    const key = newKey();
    const john = await loginAs(t, ['homeowner']);
    const mine = await post(jane, { text: 'shared key' }, key);
    const theirs = await post(john, { text: 'shared key' }, key);
    expect([mine.statusCode, theirs.statusCode]).toEqual([201, 201]);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(await notesOf(t, john.id)).toBe(1);
  });

  it('keeps an error answer below 500 too: the retry gets the same 404', async () => {
    const key = newKey();
    const first = await post(jane, { text: 'lost', outcome: 'missing' }, key);
    expect(first.statusCode).toBe(404);
    const runs = notes.runs;
    const replay = await post(jane, { text: 'lost', outcome: 'missing' }, key);
    expect(replay.statusCode).toBe(404);
    expect(replay.body).toBe(first.body);
    expect(replay.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(notes.runs).toBe(runs);
  });

  it('gives the key back after a 500: the retry runs the handler again', async () => {
    const key = newKey();
    const before = await notesOf(t, jane.id);
    const failed = await post(jane, { text: `flaky ${key}`, outcome: 'flaky' }, key);
    expect(failed.statusCode).toBe(500);
    const retry = await post(jane, { text: `flaky ${key}`, outcome: 'flaky' }, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(jane, { text: `flaky ${key}`, outcome: 'flaky' }, key);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(retry.body);
    expect(await notesOf(t, jane.id)).toBe(before + 1);
  });

  it('forgets a key after 24 hours: the same key is then a new request', async () => {
    const key = newKey();
    const first = await post(jane, { text: 'day one' }, key);
    t.clock.advance(23 * 3600);
    // A new session (the access token has expired meanwhile): the key is the user's, not the token's.
    jane = await login(t, jane.email, jane.password);
    expect((await post(jane, { text: 'day one' }, key)).headers['idempotent-replayed']).toBe(
      'true',
    );
    t.clock.advance(3600);
    jane = await login(t, jane.email, jane.password);
    const later = await post(jane, { text: 'another body, a day later' }, key);
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    expect(later.json().id).not.toBe(first.json().id);
  });

  it('a claim left by a request that died is taken over by the same request after its lease', async () => {
    const key = newKey();
    const payload = { text: 'orphan' };
    // What a process killed between claim and answer leaves behind: a pending claim.
    const { bodyFingerprint } = await import('../../src/kernel/idempotency.js');
    const orphan = await claimKey(
      t.app.db,
      jane.id,
      key,
      { method: 'POST', path: '/test/notes', fingerprint: bodyFingerprint(payload) },
      t.clock.now(),
    );
    expect(orphan.kind).toBe('claimed');
    expect((await post(jane, payload, key)).statusCode).toBe(409);
    t.clock.advance(61);
    jane = await login(t, jane.email, jane.password);
    // A different request still may not take the key.
    expect((await post(jane, { text: 'someone else' }, key)).statusCode).toBe(422);
    const taken = await post(jane, payload, key);
    expect(taken.statusCode).toBe(201);
    expect(taken.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('20 concurrent POSTs with one key', () => {
  it('make one effect: the first runs, the rest get 409 while it runs, a retry replays it', async () => {
    const user = await loginAs(t, ['homeowner']);
    const key = newKey();
    const payload = { text: 'twenty at once', wait: true };
    const answers: Array<{ statusCode: number; body: string }> = [];
    let settle: () => void = () => {};
    const nineteen = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const requests = Array.from({ length: 20 }, () =>
      post(user, payload, key).then((res) => {
        answers.push(res);
        if (answers.length === 19) settle();
        return res;
      }),
    );
    // The one that claimed the key waits at the gate; the other nineteen are answered meanwhile.
    await nineteen;
    expect(answers.map((res) => res.statusCode)).toEqual(Array(19).fill(409));
    for (const res of answers) {
      expect(JSON.parse(res.body).code).toBe('idempotency_key_in_use');
    }
    notes.openGate();
    const all = await Promise.all(requests);
    const created = all.filter((res) => res.statusCode === 201);
    expect(created).toHaveLength(1);
    expect(created[0]?.headers['retry-after']).toBeUndefined();
    expect(all.filter((res) => res.statusCode === 409)[0]?.headers['retry-after']).toBe('1');
    expect(await notesOf(t, user.id)).toBe(1);

    const retry = await post(user, payload, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.body).toBe(created[0]?.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await notesOf(t, user.id)).toBe(1);
  });

  it('without a gate, 20 racing POSTs with one key still make one effect', async () => {
    const user = await loginAs(t, ['homeowner']);
    const key = newKey();
    const all = await Promise.all(
      Array.from({ length: 20 }, () => post(user, { text: 'race' }, key)),
    );
    const first = all.find(
      (res) => res.statusCode === 201 && res.headers['idempotent-replayed'] === undefined,
    );
    expect(first).toBeDefined();
    for (const res of all) {
      if (res.statusCode === 201) expect(res.body).toBe(first?.body);
      else expect(JSON.parse(res.body).code).toBe('idempotency_key_in_use');
    }
    expect(await notesOf(t, user.id)).toBe(1);
  });
});
