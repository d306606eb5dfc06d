import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltApp, buildAppWith } from './support.js';

const withThrowingRoute = (env: Record<string, string | undefined> = {}) =>
  buildAppWith((app) => {
    app.get('/test/throw', async () => {
      throw new Error('boom');
    });
  }, env);

let t: BuiltApp;
beforeAll(async () => {
  t = await withThrowingRoute();
});
afterAll(() => t?.close());

describe('security headers', () => {
  it.each([
    ['a success', '/health/live', 200],
    ['the OpenAPI document', '/openapi.json', 200],
    ['the metrics', '/metrics', 200],
    ['an unknown route', '/nope', 404],
    ['an internal error', '/test/throw', 500],
  ])('%s carries nosniff, no-referrer, no-store and a deny-all CSP', async (_case, url, status) => {
    const res = await t.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('an error before routing (malformed JSON) carries them too', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/nope',
      payload: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'/);
  });

  it('the docs page gets a CSP that lets it load its own scripts, still strict', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).not.toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('sends no HSTS over plain HTTP', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('ignores X-Forwarded-Proto: https when no proxy is trusted', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

// Each case builds an app of its own; a loaded machine needs more than the default timeout.
describe('HSTS behind a trusted TLS-terminating proxy', { timeout: 120_000 }, () => {
  it.each([
    ['true', 'true'],
    ['a hop count', '1'],
    ['an address', '127.0.0.1'],
    ['a CIDR', '127.0.0.0/8'],
  ])(
    'with TRUST_PROXY as %s, X-Forwarded-Proto: https from the proxy gets HSTS',
    async (_case, trust) => {
      const proxied = await withThrowingRoute({ TRUST_PROXY: trust });
      try {
        const res = await proxied.app.inject({
          method: 'GET',
          url: '/health/live',
          remoteAddress: '127.0.0.1',
          headers: { 'x-forwarded-proto': 'https' },
        });
        expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d{8,}/);
      } finally {
        await proxied.close();
      }
    },
  );

  it('X-Forwarded-Proto from a peer outside the trusted list gets no HSTS', async () => {
    const proxied = await withThrowingRoute({ TRUST_PROXY: '10.0.0.0/8' });
    try {
      const res = await proxied.app.inject({
        method: 'GET',
        url: '/health/live',
        remoteAddress: '203.0.113.7',
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(res.headers['strict-transport-security']).toBeUndefined();
    } finally {
      await proxied.close();
    }
  });
});
