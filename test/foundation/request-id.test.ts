import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltApp, buildAppWith } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: BuiltApp;
beforeAll(async () => {
  t = await buildAppWith((app) => {
    app.post(
      '/test/echo',
      { schema: { body: Type.Object({ name: Type.String() }, { additionalProperties: false }) } },
      async (request) => request.body,
    );
    app.get('/test/throw', async () => {
      throw new Error('boom');
    });
  });
});
afterAll(() => t?.close());

describe('X-Request-Id on every response', () => {
  it.each([
    ['a success', { method: 'GET' as const, url: '/health/live' }, 200],
    ['an unknown route', { method: 'GET' as const, url: '/nope' }, 404],
    [
      'a validation failure',
      { method: 'POST' as const, url: '/test/echo', payload: { name: 1 } },
      400,
    ],
    [
      'a malformed body',
      {
        method: 'POST' as const,
        url: '/test/echo',
        payload: '{',
        headers: { 'content-type': 'application/json' },
      },
      400,
    ],
    ['an internal error', { method: 'GET' as const, url: '/test/throw' }, 500],
    ['the metrics', { method: 'GET' as const, url: '/metrics' }, 200],
    ['the docs', { method: 'GET' as const, url: '/docs' }, 200],
  ])('%s carries a generated X-Request-Id', async (_case, request, status) => {
    const res = await t.app.inject(request);
    expect(res.statusCode).toBe(status);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('generates a different id for each request', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      ids.add((await t.app.inject({ url: '/health/live' })).headers['x-request-id']);
    }
    expect(ids.size).toBe(5);
  });

  it('puts the same id in a problem body as in the header', async () => {
    const res = await t.app.inject({ url: '/nope' });
    expect(res.json().requestId).toBe(res.headers['x-request-id']);
  });
});

describe('an incoming X-Request-Id', () => {
  it.each(['abc-123', '0f8fad5b-d9cb-469f-a165-70867728950e', 'trace:span.01_A', 'x'.repeat(128)])(
    'is echoed when sane: %s',
    async (incoming) => {
      const res = await t.app.inject({
        url: '/health/live',
        headers: { 'x-request-id': incoming },
      });
      expect(res.headers['x-request-id']).toBe(incoming);
    },
  );

  it('is echoed on errors too, in the header and in the problem body', async () => {
    const res = await t.app.inject({ url: '/nope', headers: { 'x-request-id': 'client-id-1' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toBe('client-id-1');
    expect(res.json().requestId).toBe('client-id-1');
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['with a space', 'hello world'],
    ['with a control character', 'abc\u0001def'],
    ['with a tab', 'abc\tdef'],
    ['with non-ASCII letters', 'ünïcödé'],
    ['with markup', '<script>alert(1)</script>'],
    ['with a CRLF-style payload', 'id%0d%0aSet-Cookie:x=1'],
  ])('is replaced by a generated UUID when %s', async (_case, incoming) => {
    const res = await t.app.inject({ url: '/health/live', headers: { 'x-request-id': incoming } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('is replaced when the header is sent twice (over real HTTP)', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const id = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/health/live',
          agent: false,
          headers: { 'x-request-id': ['first', 'second'] },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['x-request-id'] as string | undefined));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(id).toMatch(UUID);
  });
});
