import { afterAll, expect, it } from 'vitest';
import { GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';
import { listen, StreamClient } from '../notifications/support.js';
import { changeLinks, revertChange } from './email-change.support.js';

/**
 * "This wasn't me" revokes every session of the account: their open notification streams end
 * too (notifications.sessionsChanged in the revert's transaction), within a second.
 */

const t = await createTestApp({ env: GENEROUS_LIMITS });
const url = await listen(t);
const clients: StreamClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await t.close();
});

it('the revert link ends the open notification streams of the account', async () => {
  const jane = await loginAs(t);
  const stream = await StreamClient.open(url, jane.accessToken);
  clients.push(stream);
  expect(stream.status).toBe(200);
  const { revert } = await changeLinks(t, jane, `moved-${jane.email}`);
  const reverted = await revertChange(t, revert);
  expect(reverted.statusCode, reverted.body).toBe(200);
  expect(await stream.endsWithin(1000)).toBeLessThan(1000);
});
