import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { login, loginAs, STRONG_PASSWORD } from '../helpers/users.js';
import { notify } from './support.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

const rowsOf = (userId: string) =>
  t.app.db.select().from(notifications).where(eq(notifications.userId, userId));

describe('GET /notifications', () => {
  it('lists mine newest first in keyset pages, and unread=true leaves out the read ones', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const written = [];
    for (let i = 0; i < 5; i++) written.push(await notify(t, jane.id, `n${i}`));
    const newestFirst = written.map((row) => row.id).reverse();

    const first = await t.app.inject({
      method: 'GET',
      url: '/notifications?limit=2',
      headers: jane.headers,
    });
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((item: { id: string }) => item.id)).toEqual(
      newestFirst.slice(0, 2),
    );
    expect(first.json().items[0]).toEqual({
      id: written[4]?.id,
      kind: 'booking.updated',
      title: 'n4',
      body: 'n4: the details',
      link: null,
      readAt: null,
      createdAt: expect.any(String),
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { json(): { items: Array<{ id: string }>; nextCursor: string | null } } =
        await t.app.inject({
          method: 'GET',
          url: `/notifications?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          headers: jane.headers,
        });
      seen.push(...res.json().items.map((item: { id: string }) => item.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual(newestFirst);

    const marked = await t.app.inject({
      method: 'POST',
      url: '/notifications/read',
      headers: jane.headers,
      payload: { ids: [written[1]?.id, written[3]?.id] },
    });
    expect(marked.json()).toEqual({ marked: 2 });
    const unread = await t.app.inject({
      method: 'GET',
      url: '/notifications?unread=true',
      headers: jane.headers,
    });
    expect(unread.json().items.map((item: { id: string }) => item.id)).toEqual(
      [written[4], written[2], written[0]].map((row) => row?.id),
    );
  });
});

describe('POST /notifications/read', () => {
  it('marks the ids given, then all; marking again changes nothing', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const a = await notify(t, jane.id, 'a');
    await notify(t, jane.id, 'b');
    await notify(t, jane.id, 'c');
    const read = (payload: object) =>
      t.app.inject({ method: 'POST', url: '/notifications/read', headers: jane.headers, payload });

    expect((await read({ ids: [a.id] })).json()).toEqual({ marked: 1 });
    expect((await read({ ids: [a.id] })).json()).toEqual({ marked: 0 });
    const [row] = await t.app.db.select().from(notifications).where(eq(notifications.id, a.id));
    expect(row?.readAt).toEqual(t.clock.now());
    expect((await read({ all: true })).json()).toEqual({ marked: 2 });
    expect((await read({ all: true })).json()).toEqual({ marked: 0 });
    expect((await rowsOf(jane.id)).every((r) => r.readAt !== null)).toBe(true);
  });
});

describe('notification settings', () => {
  it('starts from the defaults, saves a choice, and a kind left out goes back to its default', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const get = () =>
      t.app.inject({
        method: 'GET',
        url: '/users/me/notification-settings',
        headers: jane.headers,
      });
    const put = (mail: object) =>
      t.app.inject({
        method: 'PUT',
        url: '/users/me/notification-settings',
        headers: jane.headers,
        payload: { mail },
      });
    const defaults = {
      'request.updated': true,
      'quote.received': true,
      'quote.updated': true,
      'booking.updated': true,
      'message.received': false,
      'review.received': true,
      'account.new_sign_in': true,
    };
    expect((await get()).json()).toEqual({
      mail: defaults,
      alwaysMailed: [
        'security.password_changed',
        'security.password_reset',
        'security.signed_out_everywhere',
      ],
    });
    expect(await t.app.notifications.shouldMail(jane.id, 'booking.updated')).toBe(true);

    const saved = await put({ 'booking.updated': false, 'message.received': true });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().mail).toEqual({
      ...defaults,
      'booking.updated': false,
      'message.received': true,
    });
    expect((await get()).json().mail).toEqual(saved.json().mail);
    expect(await t.app.notifications.shouldMail(jane.id, 'booking.updated')).toBe(false);
    expect(await t.app.notifications.shouldMail(jane.id, 'message.received')).toBe(true);
    // Security kinds mail whatever the settings say.
    expect(await t.app.notifications.shouldMail(jane.id, 'security.password_changed')).toBe(true);

    expect((await put({ 'message.received': true })).json().mail).toEqual({
      ...defaults,
      'message.received': true,
    });
    expect((await put({})).json().mail).toEqual(defaults);
  });
});

describe('account security events', () => {
  it('a password change notifies the user', async () => {
    const jane = await loginAs(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/password',
      headers: jane.headers,
      payload: { currentPassword: jane.password, newPassword: `${STRONG_PASSWORD} new` },
    });
    expect(res.statusCode).toBe(204);
    const list = await t.app.inject({
      method: 'GET',
      url: '/notifications',
      headers: jane.headers,
    });
    expect(list.json().items.map((item: { kind: string }) => item.kind)).toEqual([
      'security.password_changed',
    ]);
  });

  it('signing out everywhere notifies the user', async () => {
    const jane = await loginAs(t, ['homeowner']);
    await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: jane.headers });
    const again = await login(t, jane.email, jane.password);
    const list = await t.app.inject({
      method: 'GET',
      url: '/notifications',
      headers: again.headers,
    });
    expect(list.json().items.map((item: { kind: string }) => item.kind)).toEqual([
      'security.signed_out_everywhere',
    ]);
  });

  it('deleting the account deletes its notifications and settings', async () => {
    const jane = await loginAs(t, ['homeowner']);
    await notify(t, jane.id, 'mine');
    await t.app.inject({
      method: 'PUT',
      url: '/users/me/notification-settings',
      headers: jane.headers,
      payload: { mail: { 'booking.updated': false } },
    });
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: jane.headers,
      payload: { password: jane.password },
    });
    expect(res.statusCode).toBe(204);
    expect(await rowsOf(jane.id)).toEqual([]);
    expect(
      await t.app.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.userId, jane.id))),
    ).toEqual([]);
  });
});
