import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecondInstance, createTestApp, type TestContext } from '../helpers/app.js';
import { homeowner, provider, quoteInput, requestInput } from '../marketplace/support.js';
import { listen, StreamClient } from '../notifications/support.js';

/**
 * End to end over real HTTP: a homeowner opens a request, a provider quotes, they exchange
 * messages, and each step reaches the other party's notification stream live, held by the other
 * of two instances (one PostgreSQL and LISTEN/NOTIFY with TEST_DATABASE_URL; one PGlite shared in
 * process otherwise).
 */
let a: TestContext;
let b: TestContext;
let urlA: string;
let urlB: string;
const clients: StreamClient[] = [];

beforeAll(async () => {
  a = await createTestApp({ noSmtp: true });
  b = await createSecondInstance(a, { noSmtp: true });
  urlA = await listen(a);
  urlB = await listen(b);
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await b.close();
  await a.close();
});

async function call(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('messages and notifications, live across two instances', () => {
  it('delivers quote.received and message.received to the other party’s stream on the other instance', async () => {
    const owner = await homeowner(a);
    const pro = await provider(a);
    // The homeowner listens on B, the provider on A.
    const ownerStream = await StreamClient.open(urlB, owner.accessToken);
    const proStream = await StreamClient.open(urlA, pro.accessToken);
    clients.push(ownerStream, proStream);
    expect([ownerStream.status, proStream.status]).toEqual([200, 200]);

    const opened = await call(
      urlB,
      owner.accessToken,
      'POST',
      '/homeowners/requests',
      requestInput(a, owner),
    );
    expect(opened.status).toBe(201);
    const requestId = opened.body.id as string;

    const quoted = await call(
      urlA,
      pro.accessToken,
      'POST',
      `/service-providers/requests/${requestId}/quotes`,
      quoteInput(a, pro),
    );
    expect(quoted.status).toBe(201);
    const quoteEvent = await ownerStream.next();
    expect(quoteEvent.json).toMatchObject({
      kind: 'quote.received',
      title: 'New quote on your job request',
      link: `/homeowners/requests/${requestId}/quotes`,
    });

    // The quote opened the thread: both see it.
    const mine = await call(urlB, owner.accessToken, 'GET', '/threads');
    const thread = mine.body.items.find(
      (item: { requestId: string }) => item.requestId === requestId,
    );
    expect(thread).toMatchObject({ role: 'homeowner', unreadCount: 0 });
    const threadId = thread.id as string;

    const sent = await call(urlA, pro.accessToken, 'POST', `/threads/${threadId}/messages`, {
      text: 'I can come Tuesday morning.',
    });
    expect(sent.status).toBe(201);
    const messageEvent = await ownerStream.next();
    expect(messageEvent.json).toMatchObject({
      kind: 'message.received',
      body: 'I can come Tuesday morning.',
      link: `/threads/${threadId}/messages`,
    });

    const reply = await call(urlB, owner.accessToken, 'POST', `/threads/${threadId}/messages`, {
      text: 'Tuesday is perfect.',
    });
    expect(reply.status).toBe(201);
    const replyEvent = await proStream.next();
    expect(replyEvent.json).toMatchObject({
      kind: 'message.received',
      body: 'Tuesday is perfect.',
    });

    // The homeowner reads the thread on B and marks it read.
    const list = await call(urlB, owner.accessToken, 'GET', `/threads/${threadId}/messages`);
    expect(list.body.items.map((m: { text: string }) => m.text)).toEqual([
      'Tuesday is perfect.',
      'I can come Tuesday morning.',
    ]);
    const read = await call(urlB, owner.accessToken, 'POST', `/threads/${threadId}/read`, {
      upToMessageId: list.body.items[0].id,
    });
    expect(read.body).toMatchObject({ id: threadId, unreadCount: 0 });
    // Each stream got its own events only.
    expect(ownerStream.events.map((event) => JSON.parse(event.data).kind)).toEqual([
      'quote.received',
      'message.received',
    ]);
    expect(proStream.events.map((event) => JSON.parse(event.data).kind)).toEqual([
      'message.received',
    ]);
  });
});
