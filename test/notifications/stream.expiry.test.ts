import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Fanout } from '../../src/modules/notifications/fanout.js';
import { StreamHub } from '../../src/modules/notifications/hub.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';
import { listen, StreamClient } from './support.js';

/**
 * A stream lives no longer than the access token it was opened with: a timer per stream, set to
 * the token's expiry (by the app clock), cleared when the stream closes first. The test moves the
 * app's clock to just before a token's expiry, so the timer has a few hundred milliseconds left:
 * no sleeping, the client waits (bounded) for the end the server sends.
 */
const TTL = 900;

let t: TestContext;
let url: string;
const clients: StreamClient[] = [];
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true, env: { ACCESS_TOKEN_TTL: String(TTL) } });
  url = await listen(t);
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await t.close();
});

async function open(token: string) {
  const client = await StreamClient.open(url, token);
  clients.push(client);
  return client;
}

describe('the notification stream’s lifetime', () => {
  it('ends when the access token it was opened with expires; a later token’s stream stays', async () => {
    const early = await loginAs(t, ['homeowner']);
    t.clock.advance(TTL - 0.3);
    const late = await loginAs(t, ['homeowner']);
    const expiring = await open(early.accessToken);
    const lasting = await open(late.accessToken);
    expect(expiring.status).toBe(200);
    expect(expiring.sawRetry).toBe(true);
    // About 300 ms of the token's life were left when it opened.
    expect(await expiring.endsWithin(3000)).toBeLessThan(3000);
    expect(lasting.ended).toBe(false);
    expect(t.app.notifications.hub.openStreams).toBe(1);
    // The client reconnects with a fresh token (and Last-Event-ID) and goes on.
    await lasting.close();
  });

  it('ends at once when the token is already past its exp (accepted within the clock tolerance)', async () => {
    const user = await loginAs(t, ['homeowner']);
    t.clock.advance(TTL + 5);
    const stream = await open(user.accessToken);
    expect(stream.status).toBe(200);
    await stream.endsWithin(1000);
    // A request with it now is refused outright once the tolerance is over too.
    t.clock.advance(60);
    const refused = await StreamClient.open(url, user.accessToken);
    clients.push(refused);
    expect(refused.status).toBe(401);
  });
});

/** The hub alone, on fake timers: what the timer does and that a close clears it. */
describe('the stream’s expiry timer', () => {
  afterEach(() => vi.useRealTimers());

  function fakeResponse() {
    const res = Object.assign(new EventEmitter(), {
      writableLength: 0,
      writableEnded: false,
      written: [] as string[],
      write(chunk: string) {
        res.written.push(chunk);
        return true;
      },
      end() {
        res.writableEnded = true;
      },
    });
    return res;
  }
  const hub = () =>
    new StreamHub(
      {
        subscribe: async () => {},
        publish: async () => {},
        close: async () => {},
      } as unknown as Fanout,
      { after: async () => [], sessionValid: async () => true },
      { heartbeatMs: 25_000, maxStreamsPerUser: 5 },
      { warn() {} } as never,
    );

  it('ends the stream when the token’s remaining life runs out', async () => {
    vi.useFakeTimers();
    const streams = hub();
    const res = fakeResponse();
    await streams.open('user', 'session', res as unknown as ServerResponse, undefined, 60_000);
    vi.advanceTimersByTime(59_999);
    expect(res.writableEnded).toBe(false);
    vi.advanceTimersByTime(1);
    expect(res.writableEnded).toBe(true);
    expect(streams.openStreams).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears the timer when the client goes first: no timer is left behind', async () => {
    vi.useFakeTimers();
    const streams = hub();
    const res = fakeResponse();
    await streams.open('user', 'session', res as unknown as ServerResponse, undefined, 60_000);
    expect(vi.getTimerCount()).toBe(2); // the expiry and the heartbeat
    res.emit('close');
    expect(streams.openStreams).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
