import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAppError } from '../../src/plugins/errors.js';
import { bearer, expectProblem } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { type RawResponse, rawHttp } from '../helpers/raw.js';
import { loginAs } from '../helpers/users.js';

/**
 * The errors the service does not raise itself: Node's HTTP parser (over-long URL or headers,
 * unknown methods, garbage), Fastify's router and body parser. Each is problem+json with a code
 * of its own and the security headers (issue 12, finding 5: a 20 KB URL got 431 as plain JSON
 * without nosniff, a bad method Fastify's own 400 body).
 */

let t: TestContext;
let port = 0;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});
afterAll(() => t.close());

/** Bytes on a socket of their own, read until the server closes it. */
const raw = (request: string) => rawHttp(port, request);

function expectRawProblem(res: RawResponse, status: number, code: string) {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ status, code, requestId: res.headers['x-request-id'] });
  expect(body.type).toBe(`urn:homefront:problem:${code}`);
  expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
}

describe("Node's HTTP parser", () => {
  it('a 20 KB URL: 431 header_too_large', async () => {
    const res = await raw(`GET /health/live?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectRawProblem(res, 431, 'header_too_large');
  });

  it('a 20 KB header: 431 header_too_large', async () => {
    const res = await raw(
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
    );
    expectRawProblem(res, 431, 'header_too_large');
  });

  it('an unknown method: 400 bad_request', async () => {
    const res = await raw('FROB /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expectRawProblem(res, 400, 'bad_request');
  });

  it('a request line that is not HTTP: 400 bad_request', async () => {
    const res = await raw('hello there\r\n\r\n');
    expectRawProblem(res, 400, 'bad_request');
  });

  it('a header with a control character: 400 bad_request', async () => {
    const res = await raw('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n');
    expectRawProblem(res, 400, 'bad_request');
  });
});

describe("Fastify's router and body parser", () => {
  it('a method a known path does not take: 405 method_not_allowed with Allow', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/auth/login' });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('POST');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const withParams = await t.app.inject({
      method: 'POST',
      url: '/homeowners/properties/018f0000-0000-7000-8000-000000000000',
    });
    expectProblem(withParams, 405, 'method_not_allowed');
    expect(withParams.headers.allow).toBe('GET, HEAD, PUT, PATCH, DELETE');
  });

  it('a method Fastify has no route for at all, on a known path: 405', async () => {
    const res = await t.app.inject({ method: 'PROPFIND', url: '/users/me' });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('GET, HEAD, PUT, PATCH, DELETE');
  });

  it('an unknown path: 404 not_found', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/no/such/path' });
    expectProblem(res, 404, 'not_found');
  });

  it('bad URL encoding: 400 with the security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/admin/users/%E0%A4%A' });
    expectProblem(res, 400, 'validation_failed');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('a body over the limit: 413 payload_too_large', async () => {
    const { accessToken } = await loginAs(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/users/me',
      headers: { ...bearer(accessToken), 'content-type': 'application/json' },
      payload: JSON.stringify({ fullName: 'x'.repeat(t.config.bodyLimitBytes) }),
    });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('a body of another media type: 415 unsupported_media_type', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/forgot-password',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it.each([
    ['not JSON', '{"email":'],
    ['__proto__', '{"email":"a@b.c","__proto__":{"x":1}}'],
  ])('a body that is %s: 400 validation_failed', async (_label, payload) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/forgot-password',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expectProblem(res, 400, 'validation_failed');
  });
});

describe('every 4xx its own code', () => {
  it.each([
    [400, 'bad_request'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [405, 'method_not_allowed'],
    [408, 'request_timeout'],
    [409, 'conflict'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [429, 'rate_limited'],
    [431, 'header_too_large'],
  ])('an error of status %i from a library says %s', (status, code) => {
    const error = Object.assign(new Error('from a plugin'), { statusCode: status });
    expect(toAppError(error)).toMatchObject({ statusCode: status, code });
  });
});
