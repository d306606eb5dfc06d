import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { loginAs, STRONG_PASSWORD } from '../helpers/users.js';
import {
  accept,
  homeowner,
  move,
  openRequest,
  provider,
  submitQuote,
} from '../marketplace/support.js';
import {
  mailsTo,
  markRead,
  messagesOf,
  notificationsOf,
  quotedThread,
  rows,
  say,
  send,
  threadOf,
  threads,
} from './support.js';

const t = await createTestApp({ noSmtp: true });
afterAll(() => t.close());

describe('message threads', () => {
  it('opens one thread per request and provider at the first quote, seen by both parties', async () => {
    const { owner, pro, requestId, threadId } = await quotedThread(t);
    // A revised quote opens nothing more.
    await submitQuote(t, pro, requestId, { priceCents: 17000 });
    const mine = (await threads(t, owner)).items.filter((item) => item.requestId === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      id: threadId,
      requestTitle: 'Leaking kitchen tap',
      role: 'homeowner',
      homeowner: { id: owner.id, name: 'Test User' },
      provider: { id: pro.id, name: 'Test User' },
      booking: null,
      unreadCount: 0,
    });
    const theirs = (await threads(t, pro)).items;
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({ id: threadId, role: 'provider' });
    // A request nobody quoted has no thread.
    const quiet = await openRequest(t, owner);
    expect((await threads(t, owner)).items.map((item) => item.requestId)).not.toContain(quiet);
  });

  it('opens the thread of a direct request at once, with the named service’s provider', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner, { serviceId: pro.serviceId });
    const threadId = await threadOf(t, pro, requestId);
    expect(await threadOf(t, owner, requestId)).toBe(threadId);
  });

  it('exchanges messages: newest first, unread counts, read markers that never move back', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    const first = await say(t, owner, threadId, '  Hello, is Tuesday fine?\r\nThanks  ');
    expect(first).toMatchObject({
      threadId,
      text: 'Hello, is Tuesday fine?\r\nThanks',
      fromMe: true,
      sender: { id: owner.id, name: 'Test User' },
    });
    const second = await say(t, owner, threadId, 'Or Wednesday.');
    const [proView] = (await threads(t, pro)).items;
    expect(proView).toMatchObject({ id: threadId, unreadCount: 2 });
    expect((await threads(t, owner)).items.find((item) => item.id === threadId)).toMatchObject({
      unreadCount: 0,
    });

    const reply = await say(t, pro, threadId, 'Tuesday works.');
    // Posting reads everything before it.
    expect((await threads(t, pro)).items[0]).toMatchObject({ unreadCount: 0 });
    const ownerThread = (await threads(t, owner)).items.find((item) => item.id === threadId);
    expect(ownerThread).toMatchObject({ unreadCount: 1 });

    const page1 = await messagesOf(t, owner, threadId, '?limit=2');
    expect(page1.statusCode).toBe(200);
    expect(page1.json().items.map((m: { id: string }) => m.id)).toEqual([reply.id, second.id]);
    expect(page1.json().items[0]).toMatchObject({ fromMe: false, sender: { id: pro.id } });
    const page2 = await messagesOf(
      t,
      owner,
      threadId,
      `?limit=2&cursor=${page1.json().nextCursor}`,
    );
    expect(page2.json()).toEqual({
      items: [expect.objectContaining({ id: first.id })],
      nextCursor: null,
    });

    const read = await markRead(t, owner, threadId, reply.id);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ id: threadId, unreadCount: 0 });
    // Marking an older message read does not bring anything back to unread.
    const back = await markRead(t, owner, threadId, first.id);
    expect(back.json()).toMatchObject({ unreadCount: 0 });
    const [member] = await rows(
      t,
      sql`select last_read_id::text as id from thread_members where thread_id = ${threadId} and user_id = ${owner.id}`,
    );
    expect(member?.id).toBe(reply.id);
  });

  it('lists threads by latest activity, keyset-paged on (lastActivityAt, id)', async () => {
    const owner = await homeowner(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(60);
      ids.push((await quotedThread(t, { owner })).threadId);
    }
    expect((await threads(t, owner)).items.map((item) => item.id)).toEqual([...ids].reverse());
    // A message in the oldest brings it to the top.
    t.clock.advance(60);
    await say(t, owner, ids[0] as string, 'Any news?');
    const first = await threads(t, owner, '?limit=2');
    expect(first.items.map((item) => item.id)).toEqual([ids[0], ids[2]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await threads(t, owner, `?limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[1] })], nextCursor: null });
  });

  it('notifies the other party of each message in the same transaction; mails only if they chose it', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    await say(t, owner, threadId, 'Can you bring a spare cartridge?');
    const received = (await notificationsOf(t, pro.id)).filter(
      (row) => row.kind === 'message.received',
    );
    expect(received).toEqual([
      {
        kind: 'message.received',
        title: 'New message from Test User about "Leaking kitchen tap"',
        body: 'Can you bring a spare cartridge?',
        link: `/threads/${threadId}/messages`,
      },
    ]);
    // Messages do not mail by default…
    expect((await mailsTo(t, pro.email)).map((row) => row.template)).not.toContain(
      'message.received',
    );
    // …until the user asks for it: then one mail per message, without the text.
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/users/me/notification-settings',
      headers: pro.headers,
      payload: { mail: { 'message.received': true } },
    });
    expect(settings.statusCode).toBe(200);
    await say(t, owner, threadId, 'The secret is 1234');
    const mails = (await mailsTo(t, pro.email)).filter(
      (row) => row.template === 'message.received',
    );
    expect(mails).toHaveLength(1);
    const [outbox] = await rows(
      t,
      sql`select subject from mail_outbox where recipient = ${pro.email} and template = 'message.received'`,
    );
    expect(outbox?.subject).toBe('New message');
  });

  it('honours Idempotency-Key: a retry gets the first answer and posts nothing more', async () => {
    const { owner, threadId } = await quotedThread(t);
    const key = { 'idempotency-key': `msg-${threadId}` };
    const a = await send(t, owner, threadId, 'Once only', key);
    const b = await send(t, owner, threadId, 'Once only', key);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().id).toBe(a.json().id);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect((await messagesOf(t, owner, threadId)).json().items).toHaveLength(1);
  });

  it('keeps a deleted user’s messages, sent by "former user"', async () => {
    const { owner, pro, threadId } = await quotedThread(t);
    await say(t, pro, threadId, 'I can come on Tuesday.');
    await say(t, owner, threadId, 'Great.');
    const gone = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: pro.headers,
      payload: { password: STRONG_PASSWORD },
    });
    expect(gone.statusCode, gone.body).toBe(204);
    const list = await messagesOf(t, owner, threadId);
    expect(list.json().items.map((m: Record<string, unknown>) => [m.sender, m.text])).toEqual([
      [{ id: owner.id, name: 'Test User' }, 'Great.'],
      [{ id: null, name: 'former user' }, 'I can come on Tuesday.'],
    ]);
    const thread = (await threads(t, owner)).items.find((item) => item.id === threadId);
    expect(thread).toMatchObject({ provider: { id: null, name: 'former user' } });
    // Writing on still works; there is nobody to notify.
    await say(t, owner, threadId, 'Hello?');
  });

  it('shows the booking once the quote is accepted', async () => {
    const { owner, pro, requestId, quoteId, threadId } = await quotedThread(t);
    const booked = await accept(t, owner, requestId, quoteId);
    expect(booked.statusCode).toBe(201);
    const thread = (await threads(t, pro)).items.find((item) => item.id === threadId);
    expect(thread).toMatchObject({ booking: { id: booked.json().id, state: 'scheduled' } });
  });

  it('lets an administrator read the thread while the booking is disputed, not write in it', async () => {
    const { owner, pro, requestId, quoteId, threadId } = await quotedThread(t);
    await say(t, pro, threadId, 'Done, see photos.');
    const bookingId = (await accept(t, owner, requestId, quoteId)).json().id;
    const admin = await loginAs(t, ['admin']);
    expect((await messagesOf(t, admin, threadId)).statusCode).toBe(404);
    expect((await move(t, pro, bookingId, 'start')).statusCode).toBe(200);
    expect((await move(t, pro, bookingId, 'complete')).statusCode).toBe(200);
    const disputed = await move(t, owner, bookingId, 'dispute', { reason: 'Still leaking' });
    expect(disputed.statusCode, disputed.body).toBe(200);
    const read = await messagesOf(t, admin, threadId);
    expect(read.statusCode).toBe(200);
    expect(read.json().items[0]).toMatchObject({ text: 'Done, see photos.', fromMe: false });
    expect((await send(t, admin, threadId, 'Admin here')).statusCode).toBe(404);
    expect((await markRead(t, admin, threadId, read.json().items[0].id)).statusCode).toBe(404);
  });
});

describe('marketplace notifications', () => {
  it('notifies each transition’s recipient as it mails them, and mails only what they want', async () => {
    const owner = await homeowner(t);
    const alice = await provider(t);
    const bob = await provider(t);
    const requestId = await openRequest(t, owner);
    const aliceQuote = await submitQuote(t, alice, requestId);
    // The homeowner turns quote mails off: the notification still comes, the mail does not.
    await t.app.inject({
      method: 'PUT',
      url: '/users/me/notification-settings',
      headers: owner.headers,
      payload: { mail: { 'quote.received': false } },
    });
    await submitQuote(t, bob, requestId);
    expect((await notificationsOf(t, owner.id)).map((row) => row.kind)).toEqual([
      'quote.received',
      'quote.received',
    ]);
    expect((await mailsTo(t, owner.email)).map((row) => row.template)).toEqual([
      'marketplace.quote.submit',
    ]);

    const booked = await accept(t, owner, requestId, aliceQuote);
    const bookingId = booked.json().id;
    expect(await notificationsOf(t, alice.id)).toEqual([
      {
        kind: 'booking.updated',
        title: 'Your quote was accepted',
        body: 'Your quote on "Leaking kitchen tap" was accepted: the job is booked. The address and contact details are in the booking.',
        link: `/bookings/${bookingId}`,
      },
    ]);
    expect((await notificationsOf(t, bob.id)).map((row) => [row.kind, row.title])).toEqual([
      ['quote.updated', 'Your quote was not accepted'],
    ]);
    // Exactly one mail per recipient and event.
    expect((await mailsTo(t, alice.email)).map((row) => row.template)).toEqual([
      'marketplace.booking.create',
    ]);
    expect((await mailsTo(t, bob.email)).map((row) => row.template)).toEqual([
      'marketplace.quote.decline',
    ]);

    await move(t, alice, bookingId, 'start');
    expect((await notificationsOf(t, owner.id)).at(-1)).toMatchObject({
      kind: 'booking.updated',
      title: 'Work has started',
    });
    // The actor is not notified of their own move.
    expect(await notificationsOf(t, alice.id)).toHaveLength(1);
  });

  it('notifies the expiry of a request and of a quote (timers)', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    await submitQuote(t, pro, requestId);
    // The quote is valid for 5 days, the request open for 14.
    t.clock.advance(6 * 86_400);
    await t.app.jobs.runDue();
    expect((await notificationsOf(t, pro.id)).map((row) => [row.kind, row.title])).toEqual([
      ['quote.updated', 'Your quote expired'],
    ]);
    t.clock.advance(9 * 86_400);
    await t.app.jobs.runDue();
    expect((await notificationsOf(t, owner.id)).map((row) => [row.kind, row.title])).toEqual([
      ['quote.received', 'New quote on your job request'],
      ['request.updated', 'Your job request expired'],
    ]);
  });
});
