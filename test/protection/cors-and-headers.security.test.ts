import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({
    noSmtp: true,
    env: { CORS_ORIGINS: 'https://app.example.com,http://localhost:5173' },
  });
});
afterAll(() => t.close());

const preflight = (origin: string) =>
  t.app.inject({
    method: 'OPTIONS',
    url: '/users/me',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  });

describe('CORS', () => {
  it.each(['https://app.example.com', 'http://localhost:5173'])(
    'echoes the allowed origin %s exactly, with Vary: Origin',
    async (origin) => {
      const res = await preflight(origin);
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(String(res.headers.vary)).toMatch(/origin/i);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(String(res.headers['access-control-allow-headers'])).toMatch(/authorization/i);
    },
  );

  it.each([
    'https://evil.example.com',
    'null',
    'https://app.example.com.evil.com',
    'http://app.example.com',
  ])('gives the hostile origin %s no allow header', async (origin) => {
    const res = await preflight(origin);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await t.app.inject({ method: 'GET', url: '/health/live', headers: { origin } });
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('adds the allow header to actual requests from an allowed origin', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { origin: 'https://app.example.com' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/x-request-id/i);
  });
});

describe('security headers on every response, errors included', () => {
  const requests = [
    { name: 'a success', method: 'GET' as const, url: '/health/live' },
    { name: 'a 404', method: 'GET' as const, url: '/no/such/route' },
    { name: 'a 401', method: 'GET' as const, url: '/users/me' },
    { name: 'a 400', method: 'POST' as const, url: '/auth/login', payload: { nope: 1 } },
  ];
  it.each(requests)(
    '$name carries nosniff, no-referrer, no-store and a strict CSP',
    async (request) => {
      const res = await t.app.inject(request);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(res.headers['strict-transport-security']).toBeUndefined();
    },
  );

  it('relaxes the CSP for the interactive docs only', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-eval');
  });
});

describe('methods and limits', () => {
  it.each(['TRACE', 'CONNECT'])(
    'answers %s with problem+json, never echoing the request',
    async (method) => {
      const res = await t.app.inject({
        method: method as 'GET',
        url: '/users/me',
        headers: { 'x-secret': 'leak-me' },
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).not.toContain('leak-me');
    },
  );
});
