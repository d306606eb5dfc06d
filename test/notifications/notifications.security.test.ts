import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { notify } from './support.js';

let t: TestContext;
let jane: TestUser;
let mallory: TestUser;
let janes: { id: string };
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  jane = await loginAs(t, ['homeowner']);
  mallory = await loginAs(t, ['service_provider']);
  janes = await notify(t, jane.id, 'Jane’s');
});
afterAll(() => t?.close());

describe('another user’s notifications', () => {
  it('are not in my list, nor in my unread list', async () => {
    await notify(t, mallory.id, 'Mallory’s');
    for (const url of ['/notifications', '/notifications?unread=true']) {
      const res = await t.app.inject({ method: 'GET', url, headers: mallory.headers });
      const ids = res.json().items.map((item: { id: string }) => item.id);
      expect(ids).not.toContain(janes.id);
      expect(ids).toHaveLength(1);
    }
  });

  it('cannot be marked read by me, by id or with all', async () => {
    for (const payload of [{ ids: [janes.id] }, { all: true }]) {
      await t.app.inject({
        method: 'POST',
        url: '/notifications/read',
        headers: mallory.headers,
        payload,
      });
    }
    const [row] = await t.app.db.select().from(notifications).where(eq(notifications.id, janes.id));
    expect(row?.readAt).toBeNull();
  });

  it('a cursor made from another user’s notification pages only my own', async () => {
    const cursor = Buffer.from(janes.id).toString('base64url');
    const res = await t.app.inject({
      method: 'GET',
      url: `/notifications?cursor=${cursor}`,
      headers: mallory.headers,
    });
    expect(res.statusCode).toBe(200);
    for (const item of res.json().items) expect(item.id).not.toBe(janes.id);
  });
});

describe('mass assignment', () => {
  it('refuses a userId in the settings body, and settings stay per user', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/users/me/notification-settings',
      headers: mallory.headers,
      payload: { userId: jane.id, mail: { 'booking.updated': false } },
    });
    expect(res.statusCode).toBe(400);
    await t.app.inject({
      method: 'PUT',
      url: '/users/me/notification-settings',
      headers: mallory.headers,
      payload: { mail: { 'booking.updated': false } },
    });
    const janesSettings = await t.app.inject({
      method: 'GET',
      url: '/users/me/notification-settings',
      headers: jane.headers,
    });
    expect(janesSettings.json().mail['booking.updated']).toBe(true);
  });

  it('exposes no user id in a notification', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/notifications', headers: jane.headers });
    expect(Object.keys(res.json().items[0]).sort()).toEqual(
      ['body', 'createdAt', 'id', 'kind', 'link', 'readAt', 'title'].sort(),
    );
  });
});

describe('the stream’s token', () => {
  it('is taken only from the Authorization header, and a refused query token is not logged', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/notifications/stream?access_token=${jane.accessToken}`,
      headers: { accept: 'text/event-stream' },
    });
    expect(res.statusCode).toBe(401);
    expect(JSON.stringify(t.logs)).not.toContain(jane.accessToken);
  });
});
