import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';

const LIMITS = {
  RATE_LIMIT_GLOBAL_MAX: '1000',
  RATE_LIMIT_AUTH_MAX: '5',
  RATE_LIMIT_LOGIN_FAILURES: '3',
  RATE_LIMIT_MAILS_PER_EMAIL: '2',
  RATE_LIMIT_WINDOW: '60',
};

describe('per-address limits on the auth routes', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true, env: LIMITS });
  });
  afterAll(() => t.close());

  it('answers 429 rate_limited with Retry-After and RateLimit-* headers past the limit', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof t.app.inject>> | undefined;
    for (let i = 0; i < 6; i++) {
      last = await t.app.inject({
        method: 'POST',
        url: '/auth/verify-email',
        payload: { token: 'x'.repeat(43) },
        remoteAddress: '198.51.100.7',
      });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    expect(last?.headers['content-type']).toContain('application/problem+json');
    expect(last?.json().code).toBe('rate_limited');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.headers['ratelimit-limit']).toBe('5');
    expect(last?.headers['ratelimit-remaining']).toBe('0');
  });

  it('shows the remaining budget on limited responses that pass', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/openapi.json',
      remoteAddress: '198.51.100.8',
    });
    expect(res.headers['ratelimit-limit']).toBe('1000');
    expect(Number(res.headers['ratelimit-remaining'])).toBe(999);
  });

  it('ignores X-Forwarded-For from an untrusted peer, so rotating it does not reset the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/verify-email',
        payload: { token: 'y'.repeat(43) },
        remoteAddress: '198.51.100.9',
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.at(-1)).toBe(429);
  });

  it('never limits health checks', async () => {
    for (let i = 0; i < 1010; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/health/live',
        remoteAddress: '198.51.100.10',
      });
      if (res.statusCode !== 200) throw new Error(`health answered ${res.statusCode} on call ${i}`);
    }
  });
});

describe('the login throttle per normalised email', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true, env: { ...LIMITS, RATE_LIMIT_AUTH_MAX: '1000' } });
  });
  afterAll(() => t.close());

  it('counts failures across case variants and addresses, then refuses even the right password until the window passes', async () => {
    const user = await createUser(t, ['homeowner'], { email: uniqueEmail('throttle') });
    const variants = [
      user.email.toUpperCase(),
      ` ${user.email} `,
      user.email.replace(/^./, (c) => c.toUpperCase()),
    ];
    for (const [i, email] of variants.entries()) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email, password: 'wrong password here' },
        remoteAddress: `192.0.2.${i + 1}`,
      });
      expect(res.statusCode).toBe(401);
    }
    const blocked = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: STRONG_PASSWORD },
      remoteAddress: '192.0.2.99',
    });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);

    t.clock.advance(61);
    const after = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: STRONG_PASSWORD },
    });
    expect(after.statusCode).toBe(200);
  });

  it('resets on a successful login', async () => {
    const user = await createUser(t, ['homeowner'], { email: uniqueEmail('reset') });
    for (let i = 0; i < 2; i++) {
      await t.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: user.email, password: 'nope nope nope' },
      });
    }
    const ok = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: STRONG_PASSWORD },
    });
    expect(ok.statusCode).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: user.email, password: 'nope nope nope' },
      });
      expect(res.statusCode).toBe(401);
    }
  });

  it('throttles unknown emails the same way, revealing nothing', async () => {
    const email = uniqueEmail('ghost');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email, password: 'whatever it is 1' },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe('mail-sending flows are capped per address', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true, env: { ...LIMITS, RATE_LIMIT_AUTH_MAX: '1000' } });
  });
  afterAll(() => t.close());

  it.each(['/auth/forgot-password', '/auth/resend-verification'])(
    '%s: 202 twice, then 429',
    async (url) => {
      const email = uniqueEmail('burst');
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url,
          payload: { email },
          remoteAddress: `192.0.2.${i + 10}`,
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([202, 202, 429]);
    },
  );
});

describe('trusted proxies', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true, env: { ...LIMITS, TRUST_PROXY: '10.0.0.0/8' } });
  });
  afterAll(() => t.close());

  it('takes the client address from X-Forwarded-For only when the peer is the configured proxy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/verify-email',
        payload: { token: 'z'.repeat(43) },
        remoteAddress: '10.1.2.3',
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(res.statusCode);
    }
    // Six different clients behind the proxy: none of them is over its own limit.
    expect(statuses).not.toContain(429);
  });

  it('sends HSTS when the trusted proxy says the request came over https', async () => {
    const https = await t.app.inject({
      method: 'GET',
      url: '/health/live',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(https.headers['strict-transport-security']).toContain('max-age=');
    const spoofed = await t.app.inject({
      method: 'GET',
      url: '/health/live',
      remoteAddress: '198.51.100.1',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();
  });
});
