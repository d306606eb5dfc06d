import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { markRead, messagesOf, quotedThread, say, send, threads } from './support.js';

const t = await createTestApp({ noSmtp: true, env: { MESSAGE_RATE_LIMIT: '3' } });
afterAll(() => t.close());

describe('message errors', () => {
  it('refuses text that is empty, blank, too long, or carries control characters', async () => {
    const { owner, threadId } = await quotedThread(t);
    for (const text of [
      '',
      '   ',
      'x'.repeat(4001),
      'nul\u0000',
      'escape\u001b[31m',
      'c1\u0085',
      'del\u007f',
      'tab\u000bvertical',
      'lone \ud800 surrogate',
      42,
      null,
    ]) {
      expectProblem(await send(t, owner, threadId, text), 400, 'validation_failed');
    }
    // The bound is 4000, line breaks are allowed.
    expect((await send(t, owner, threadId, `${'x'.repeat(3998)}\r\n`)).statusCode).toBe(201);
    expect((await messagesOf(t, owner, threadId)).json().items).toHaveLength(1);
  });

  it('refuses unknown fields, bad ids and bad cursors', async () => {
    const { owner, threadId } = await quotedThread(t);
    const extra = await t.app.inject({
      method: 'POST',
      url: `/threads/${threadId}/messages`,
      headers: owner.headers,
      payload: { text: 'hi', senderId: randomUUID() },
    });
    expectProblem(extra, 400, 'validation_failed');
    expectProblem(await messagesOf(t, owner, 'not-a-uuid'), 400, 'validation_failed');
    expectProblem(await send(t, owner, 'not-a-uuid', 'hi'), 400, 'validation_failed');
    expectProblem(await markRead(t, owner, threadId, 'nope'), 400, 'validation_failed');
    for (const cursor of [
      'bad',
      'AAAA',
      Buffer.from('2030-01-01T00:00:00.000Z_x').toString('base64url'),
    ]) {
      expectProblem(
        await t.app.inject({
          method: 'GET',
          url: `/threads?cursor=${cursor}`,
          headers: owner.headers,
        }),
        400,
        'validation_failed',
      );
      expectProblem(
        await messagesOf(t, owner, threadId, `?cursor=${cursor}`),
        400,
        'validation_failed',
      );
    }
    for (const limit of ['0', '101', 'x']) {
      expectProblem(
        await t.app.inject({
          method: 'GET',
          url: `/threads?limit=${limit}`,
          headers: owner.headers,
        }),
        400,
        'validation_failed',
      );
    }
  });

  it('refuses a read marker that is not a message of the thread', async () => {
    const a = await quotedThread(t);
    const b = await quotedThread(t, { owner: a.owner });
    const elsewhere = await say(t, a.owner, b.threadId, 'in the other thread');
    const res = await markRead(t, a.owner, a.threadId, elsewhere.id);
    expect(expectProblem(res, 400, 'validation_failed').errors).toEqual([
      { path: '/body/upToMessageId', message: 'is not a message of this thread' },
    ]);
    expectProblem(await markRead(t, a.owner, a.threadId, randomUUID()), 400, 'validation_failed');
  });

  it('answers 404 for a thread that does not exist', async () => {
    const { owner } = await quotedThread(t);
    const id = randomUUID();
    expectProblem(await messagesOf(t, owner, id), 404, 'not_found');
    expectProblem(await send(t, owner, id, 'hi'), 404, 'not_found');
    expectProblem(await markRead(t, owner, id, randomUUID()), 404, 'not_found');
  });

  it('limits messages per user (MESSAGE_RATE_LIMIT=3 here), not per address', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    for (let i = 0; i < 3; i++) await say(t, owner, threadId, `message ${i}`);
    const refused = await send(t, owner, threadId, 'one too many', {
      'idempotency-key': 'k-limit',
    });
    expectProblem(refused, 429, 'rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The other party, from the same address, still may.
    await say(t, pro, threadId, 'my turn');
    // Nothing was stored for the refused post, nor recorded for its key.
    expect((await messagesOf(t, owner, threadId)).json().items).toHaveLength(4);
    t.clock.advance(61);
    const retried = await send(t, owner, threadId, 'one too many', {
      'idempotency-key': 'k-limit',
    });
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('reserves each slot atomically: 12 concurrent posts with a limit of 3, exactly 3 stored', async () => {
    const { owner, threadId } = await quotedThread(t);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => send(t, owner, threadId, `concurrent ${i}`)),
    );
    const statuses = answers.map((res) => res.statusCode).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(9);
    expect((await messagesOf(t, owner, threadId)).json().items).toHaveLength(3);
  });

  it('needs a signed-in user', async () => {
    for (const [method, url] of [
      ['GET', '/threads'],
      ['GET', `/threads/${randomUUID()}/messages`],
      ['POST', `/threads/${randomUUID()}/messages`],
      ['POST', `/threads/${randomUUID()}/read`],
    ] as const) {
      const res = await t.app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
      expectProblem(res, 401, 'unauthorized');
    }
    const { owner } = await quotedThread(t);
    expect((await threads(t, owner)).items.length).toBeGreaterThan(0);
  });
});
