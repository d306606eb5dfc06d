import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import { loginAs } from '../helpers/users.js';
import { accept, homeowner, provider } from '../marketplace/support.js';
import {
  ADDRESS_KEYS,
  keysOf,
  markRead,
  messagesOf,
  quotedThread,
  say,
  send,
  threads,
} from './support.js';

const t = await createTestApp({ noSmtp: true });
afterAll(() => t.close());

describe('who may read a thread', () => {
  it('is its two parties: another homeowner, another provider, an admin get 404 and change nothing', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    const message = await say(t, owner, threadId, 'Only for you');
    const strangers = [
      await homeowner(t),
      await provider(t),
      await loginAs(t, ['admin']),
      await loginAs(t, []),
    ];
    for (const stranger of strangers) {
      expectProblem(await messagesOf(t, stranger, threadId), 404, 'not_found');
      expectProblem(await send(t, stranger, threadId, 'sneaky'), 404, 'not_found');
      expectProblem(await markRead(t, stranger, threadId, message.id), 404, 'not_found');
      expect((await threads(t, stranger)).items.map((item) => item.id)).not.toContain(threadId);
    }
    // Nothing changed: one message, still unread by the provider.
    expect((await messagesOf(t, owner, threadId)).json().items).toHaveLength(1);
    expect((await threads(t, pro)).items[0]).toMatchObject({ id: threadId, unreadCount: 1 });
  });

  it('gives another provider who quoted on the same request a thread of their own, not this one', async () => {
    const { owner, pro, requestId, threadId } = await quotedThread(t);
    const rival = await provider(t);
    const { submitQuote } = await import('../marketplace/support.js');
    await submitQuote(t, rival, requestId);
    await say(t, pro, threadId, 'Between us');
    const rivalThreads = (await threads(t, rival)).items;
    expect(rivalThreads).toHaveLength(1);
    expect(rivalThreads[0]?.id).not.toBe(threadId);
    expectProblem(await messagesOf(t, rival, threadId), 404, 'not_found');
    expect(
      (await threads(t, owner)).items.filter((item) => item.requestId === requestId),
    ).toHaveLength(2);
  });

  it('never names the sender from the body: senderId and threadId are refused', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    for (const extra of [{ senderId: pro.id }, { threadId }, { fromMe: false }]) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/threads/${threadId}/messages`,
        headers: owner.headers,
        payload: { text: 'hi', ...extra },
      });
      expectProblem(res, 400, 'validation_failed');
    }
  });
});

describe('what a thread shows', () => {
  it('never carries an address, email or phone: not before booking, not after', async () => {
    const { owner, pro, requestId, quoteId, threadId } = await quotedThread(t);
    await say(t, owner, threadId, 'Hello');
    const shapes = async () => [
      await threads(t, owner),
      await threads(t, pro),
      (await messagesOf(t, owner, threadId)).json(),
      (await messagesOf(t, pro, threadId)).json(),
      (
        await markRead(t, pro, threadId, (await messagesOf(t, pro, threadId)).json().items[0].id)
      ).json(),
      (await send(t, pro, threadId, 'Reply')).json(),
    ];
    for (const shape of await shapes()) {
      expect(keysOf(shape).filter((key) => ADDRESS_KEYS.test(key))).toEqual([]);
      expect(JSON.stringify(shape)).not.toMatch(/Main Street|Springfield|62701|@example/);
    }
    // Booked: the booking has the address; the thread still does not.
    expect((await accept(t, owner, requestId, quoteId)).statusCode).toBe(201);
    for (const shape of await shapes()) {
      expect(keysOf(shape).filter((key) => ADDRESS_KEYS.test(key))).toEqual([]);
      expect(JSON.stringify(shape)).not.toMatch(/Main Street|Springfield|62701|@example/);
    }
  });

  it('stores hostile but valid text as sent, and answers it as JSON', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    const hostile = `<script>alert(1)</script> '; drop table messages; -- \u202e bidi 😀`;
    await say(t, owner, threadId, hostile);
    const [item] = (await messagesOf(t, pro, threadId)).json().items;
    expect(item.text).toBe(hostile);
  });
});
