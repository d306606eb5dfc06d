import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { now, pollUntil } from '../helpers/net.js';
import { AppProcess } from './support/app-process.js';
import { Resources } from './support/cleanup.js';
import { type Answer, call, tally } from './support/http.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { PrivateRedis } from './support/private-redis.js';
import { insertUser, PASSWORD, uniqueEmail } from './support/users.js';

/**
 * Redis holds the shared rate-limit counters. Killed, the limits fail open and the API keeps
 * serving; restarted on the same port, the limits apply again without restarting the app.
 */

const LOGIN_FAILURES = 3;
const OUTAGE_MS = 3_000;

const resources = new Resources();
afterEach(() => resources.dispose());

const wrongLogin = (base: string, email: string) =>
  call(base, 'POST', '/auth/login', { body: { email, password: 'not the right password 1' } });

/** Failed logins for one email until the throttle answers 429 (at most `max` tries). */
async function failuresUntilThrottled(base: string, email: string, max: number) {
  const answers: Answer[] = [];
  for (let i = 0; i < max; i++) {
    const answer = await wrongLogin(base, email);
    answers.push(answer);
    if (answer.status !== 401) break;
  }
  return answers;
}

describe('Redis stopped while rate limits are shared', () => {
  it('fails open while Redis is down and limits again once it is back on the same port', async () => {
    const redis = resources.add(await PrivateRedis.start(), (instance) => instance.destroy());
    const pg = resources.add(await PrivatePostgres.create(), (instance) => instance.destroy());
    await pg.start();
    const server = resources.add(
      await AppProcess.start({
        databaseUrl: pg.url,
        env: {
          REDIS_URL: redis.url,
          RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES),
          RATE_LIMIT_WINDOW: '60',
        },
      }),
      (process) => process.destroy(),
    );
    const probe = resources.add(
      new Redis(redis.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
      }),
      async (client) => client.disconnect(),
    );
    probe.on('error', () => undefined);
    const user = await insertUser(pg);

    // With Redis: the per-email throttle, its counter in Redis.
    const before = await failuresUntilThrottled(server.url, uniqueEmail('throttled-a'), 10);
    expect(before.map((a) => a.status)).toEqual([401, 401, 401, 429]);
    await probe.connect();
    expect((await probe.keys('homefront:counter:login-failures:*')).length).toBe(1);
    probe.disconnect();

    await redis.kill('SIGKILL');
    const down = now();
    const during: Answer[] = [];
    const throttledB = uniqueEmail('throttled-b');
    // Three seconds of traffic without Redis: the client's reconnect backoff grows meanwhile.
    while (now() - down < OUTAGE_MS) {
      // Past the limit for one email: the throttle fails open, so these stay the usual 401.
      during.push(await wrongLogin(server.url, throttledB));
      const login = await call(server.url, 'POST', '/auth/login', {
        body: { email: user.email, password: user.password },
      });
      during.push(login);
      const token = (login.body as { access_token?: string }).access_token ?? '';
      during.push(await call(server.url, 'GET', '/users/me', { token }));
    }
    during.push(
      await call(server.url, 'POST', '/auth/register', {
        body: {
          email: uniqueEmail('no-redis'),
          password: PASSWORD,
          fullName: 'N',
          role: 'homeowner',
        },
      }),
    );
    const outageMs = now() - down;

    await redis.start();
    const up = now();
    // The app's client reconnects on its own (ioredis backoff, at most 2 s between tries). A TCP
    // connection seen by Redis is not yet a client ready for commands (ioredis runs its ready
    // check first, and fails open meanwhile), so wait until a failed login is counted there.
    await probe.connect();
    await pollUntil(
      async () => {
        await wrongLogin(server.url, uniqueEmail('reconnect-probe'));
        const keys = await probe.keys('homefront:counter:login-failures:*');
        return keys.length > 0 ? true : undefined;
      },
      15_000,
      'the app counting failed logins in Redis again',
      50,
    );
    const reconnectedMs = now() - up;
    const after = await failuresUntilThrottled(server.url, uniqueEmail('throttled-c'), 10);
    const keys = await probe.keys('homefront:*');

    console.log(
      `[fault] Redis killed: ${during.length} requests during a ${Math.round(outageMs)} ms outage ` +
        `answered ${JSON.stringify(tally(during))} in max ${Math.round(
          Math.max(...during.map((a) => a.ms)),
        )} ms (limits failed open); app reconnected ${Math.round(reconnectedMs)} ms after Redis ` +
        `restarted; failed logins after: ${after.map((a) => a.status).join(',')}; ${keys.length} ` +
        `rate-limit keys in the new Redis`,
    );

    const rounds = (during.length - 1) / 3;
    expect(rounds).toBeGreaterThan(LOGIN_FAILURES);
    for (let i = 0; i < rounds; i++) {
      expect(during.slice(i * 3, i * 3 + 3).map((a) => a.status)).toEqual([401, 200, 200]);
    }
    expect(during.at(-1)?.status).toBe(202);
    for (const answer of during) expect(answer.status).toBeLessThan(500);
    expect(after.map((a) => a.status)).toEqual([401, 401, 401, 429]);
    expect(after[3]?.code).toBe('rate_limited');
    expect(keys.some((key) => key.startsWith('homefront:counter:login-failures:'))).toBe(true);
    expect(server.alive).toBe(true);
  });
});
