import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecondInstance, createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, loginAs, STRONG_PASSWORD } from '../helpers/users.js';
import { listen, notify, StreamClient } from './support.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ENV = { NOTIFICATIONS_HEARTBEAT_MS: '60', NOTIFICATIONS_MAX_STREAMS_PER_USER: '3' };

const clients: StreamClient[] = [];
async function open(url: string, token: string, extra: Record<string, string> = {}) {
  const client = await StreamClient.open(url, token, extra);
  clients.push(client);
  return client;
}

/** Two instances on one database (and one Redis for the second set): a client on each. */
for (const channel of ['database', 'redis'] as const) {
  describe(`the notification stream across two instances (${channel} channel)`, () => {
    let a: TestContext;
    let b: TestContext;
    let urlA: string;
    let urlB: string;
    beforeAll(async () => {
      const env = {
        ...ENV,
        ...(channel === 'redis' && {
          REDIS_URL,
          REDIS_KEY_PREFIX: `t${randomUUID().slice(0, 8)}:`,
        }),
      };
      a = await createTestApp({ noSmtp: true, env });
      b = await createSecondInstance(a, { noSmtp: true, env });
      urlA = await listen(a);
      urlB = await listen(b);
    });
    afterAll(async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await b.close();
      await a.close();
    });

    it('sends a notification written on one instance to a stream on each, id = notification id', async () => {
      const jane = await loginAs(a, ['homeowner']);
      const onA = await open(urlA, jane.accessToken);
      const onB = await open(urlB, jane.accessToken);
      expect(onA.status).toBe(200);
      expect(onA.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(onA.headers.get('cache-control')).toBe('no-store');
      expect(onA.headers.get('x-content-type-options')).toBe('nosniff');

      const row = await notify(a, jane.id, 'Booking confirmed');
      for (const client of [onA, onB]) {
        const event = await client.next();
        expect(event.id).toBe(row.id);
        expect(event.event).toBe('notification');
        expect(event.json).toMatchObject({
          id: row.id,
          kind: 'booking.updated',
          title: 'Booking confirmed',
          readAt: null,
        });
      }
      // Someone else's notification reaches neither.
      const other = await createUser(a, ['homeowner']);
      await notify(b, other.id, 'Not for Jane');
      const mine = await notify(b, jane.id, 'For Jane');
      expect((await onA.next()).id).toBe(mine.id);
      expect((await onB.next()).id).toBe(mine.id);
    });

    it('sends nothing for a write that rolls back', async () => {
      const jane = await loginAs(a, ['homeowner']);
      const stream = await open(urlB, jane.accessToken);
      await expect(
        a.app.db.transaction(async (tx) => {
          await a.app.notifications.notify(tx, {
            userId: jane.id,
            kind: 'booking.updated',
            title: 'Rolled back',
            body: 'never',
          });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      const after = await notify(a, jane.id, 'Committed');
      const event = await stream.next();
      expect(event.id).toBe(after.id);
      expect(stream.events).toHaveLength(1);
    });

    it('replays what was written after Last-Event-ID, then goes live, without loss or duplicates', async () => {
      const jane = await loginAs(a, ['homeowner']);
      const first = await notify(a, jane.id, 'first');
      const written: string[] = [];
      // More than one replay page (200), so the replay pages while writes keep arriving.
      for (let i = 0; i < 230; i++) written.push((await notify(a, jane.id, `r${i}`)).id);
      const opening = open(urlB, jane.accessToken, { 'last-event-id': first.id });
      const concurrent: Promise<{ id: string }>[] = [];
      for (let i = 0; i < 10; i++) concurrent.push(notify(i % 2 ? a : b, jane.id, `c${i}`));
      const stream = await opening;
      for (const row of await Promise.all(concurrent)) written.push(row.id);
      await stream.waitFor(() => stream.events.length >= written.length, 'all events');
      const received = stream.events.map((event) => event.id);
      expect(new Set(received).size).toBe(received.length);
      expect([...received].sort()).toEqual([...written].sort());
      expect(received).not.toContain(first.id);
      // The replayed part comes oldest first.
      expect(received.slice(0, 230)).toEqual(written.slice(0, 230));
    });

    it('ends the stream on the other instance within a second of a logout', async () => {
      const jane = await loginAs(a, ['homeowner']);
      const stream = await open(urlB, jane.accessToken);
      await a.app.inject({ method: 'POST', url: '/auth/logout', headers: jane.headers });
      expect(await stream.endsWithin(1000)).toBeLessThan(1000);
    });

    it('ends the other sessions’ streams within a second of a password change, and tells the user', async () => {
      const jane = await loginAs(a, ['homeowner']);
      const elsewhere = await login(a, jane.email, jane.password);
      const current = await open(urlA, jane.accessToken);
      const other = await open(urlB, elsewhere.accessToken);
      const res = await a.app.inject({
        method: 'POST',
        url: '/users/me/password',
        headers: jane.headers,
        payload: { currentPassword: jane.password, newPassword: `${STRONG_PASSWORD} changed` },
      });
      expect(res.statusCode).toBe(204);
      expect(await other.endsWithin(1000)).toBeLessThan(1000);
      const event = await current.next();
      expect(event.json.kind).toBe('security.password_changed');
      expect(current.ended).toBe(false);
    });

    it('ends every stream of a user an admin disables, within a second', async () => {
      const admin = await loginAs(a, ['admin']);
      const jane = await loginAs(a, ['homeowner']);
      const streams = [await open(urlA, jane.accessToken), await open(urlB, jane.accessToken)];
      const res = await b.app.inject({
        method: 'PATCH',
        url: `/admin/users/${jane.id}`,
        headers: admin.headers,
        payload: { isActive: false },
      });
      expect(res.statusCode).toBe(200);
      for (const stream of streams) expect(await stream.endsWithin(1000)).toBeLessThan(1000);
    });

    it('sends a heartbeat comment at the configured interval', async () => {
      const jane = await loginAs(a, ['homeowner']);
      const stream = await open(urlA, jane.accessToken);
      await stream.waitFor(() => stream.comments.includes('heartbeat'), 'a heartbeat');
    });
  });
}

describe('the notification stream on one instance', () => {
  let t: TestContext;
  let url: string;
  beforeAll(async () => {
    // A pool of one: a stream that held a connection would starve every request after it.
    t = await createTestApp({ noSmtp: true, env: { ...ENV, DB_POOL_MAX: '1' } });
    url = await listen(t);
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await t.close();
  });

  it('holds no database connection while open', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => loginAs(t, ['homeowner'])));
    const streams = await Promise.all(users.map((user) => open(url, user.accessToken)));
    expect(streams.map((stream) => stream.status)).toEqual([200, 200, 200, 200]);
    const res = await t.app.inject({ method: 'GET', url: '/users/me', headers: users[0]?.headers });
    expect(res.statusCode).toBe(200);
    const row = await notify(t, users[3]?.id ?? '', 'still live');
    expect((await streams[3]?.next())?.id).toBe(row.id);
  });

  it('refuses one stream too many per user with 429 too_many_streams, and takes one again after a close', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const three = [
      await open(url, jane.accessToken),
      await open(url, jane.accessToken),
      await open(url, jane.accessToken),
    ];
    const refused = await fetch(`${url}/notifications/stream`, {
      headers: { authorization: `Bearer ${jane.accessToken}`, accept: 'text/event-stream' },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await refused.json()) as { code: string }).code).toBe('too_many_streams');
    await three[0]?.close();
    let again: StreamClient | undefined;
    for (let attempt = 0; attempt < 50 && again?.status !== 200; attempt++) {
      again = await open(url, jane.accessToken);
      if (again.status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(again?.status).toBe(200);
  });

  it('answers 406 without Accept: text/event-stream, 401 without a token, 400 for a query token', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const plain = await t.app.inject({
      method: 'GET',
      url: '/notifications/stream',
      headers: jane.headers,
    });
    expect(plain.statusCode).toBe(406);
    expect(plain.json().code).toBe('not_acceptable');
    const anonymous = await t.app.inject({
      method: 'GET',
      url: '/notifications/stream',
      headers: { accept: 'text/event-stream' },
    });
    expect(anonymous.statusCode).toBe(401);
    const queryToken = await t.app.inject({
      method: 'GET',
      url: `/notifications/stream?access_token=${jane.accessToken}`,
      headers: { accept: 'text/event-stream' },
    });
    expect(queryToken.statusCode).toBe(401);
    const both = await t.app.inject({
      method: 'GET',
      url: `/notifications/stream?access_token=${jane.accessToken}`,
      headers: { ...jane.headers, accept: 'text/event-stream' },
    });
    expect(both.statusCode).toBe(400);
    const badId = await t.app.inject({
      method: 'GET',
      url: '/notifications/stream',
      headers: { ...jane.headers, accept: 'text/event-stream', 'last-event-id': 'nope' },
    });
    expect(badId.statusCode).toBe(400);
  });

  it('ends open streams when the server closes', async () => {
    const other = await createTestApp({ noSmtp: true, env: ENV });
    const otherUrl = await listen(other);
    const jane = await loginAs(other, ['homeowner']);
    const stream = await open(otherUrl, jane.accessToken);
    const closing = other.close();
    expect(await stream.endsWithin(1000)).toBeLessThan(1000);
    await closing;
  });
});
