import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';

/**
 * Issue 13 §2, "status codes complete": every status the server sends on a route is documented
 * on it. Derived from the server, not from a list: each documented operation is sent what any
 * client can send (no token, a bad token, a body of another type, one too large, broken JSON,
 * the same request past the rate limit) and every answer's status must be one it documents.
 */

interface Operation {
  responses: Record<string, unknown>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);
const UNPROBED = new Set(['/metrics', '/openapi.json']);

function operationsOf(doc: Doc) {
  return Object.entries(doc.paths)
    .filter(([path]) => !UNPROBED.has(path))
    .flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        method,
        url: path.replace('{id}', randomUUID()).replace('{role}', 'homeowner'),
        where: `${method.toUpperCase()} ${path}`,
        documented: new Set(Object.keys(operation.responses)),
      })),
    );
}

type Probe = { name: string; headers?: Record<string, string>; payload?: string | Buffer };

function probes(method: string, bodyLimit: number): Probe[] {
  const list: Probe[] = [
    { name: 'no token' },
    { name: 'a forged token', headers: { authorization: 'Bearer forged.token.value' } },
  ];
  if (!BODY_METHODS.has(method)) return list;
  return [
    ...list,
    { name: 'text/plain', headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    {
      name: 'too large',
      headers: { 'content-type': 'application/json' },
      payload: Buffer.alloc(bodyLimit + 1, 'a'),
    },
    { name: 'broken JSON', headers: { 'content-type': 'application/json' }, payload: '{"a":' },
  ];
}

async function undocumented(t: TestContext, repeat: number) {
  const doc: Doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const seen = new Set<number>();
  const missing: string[] = [];
  for (const operation of operationsOf(doc)) {
    for (const probe of probes(operation.method, t.config.bodyLimitBytes)) {
      for (let i = 0; i < repeat; i++) {
        const res = await t.app.inject({
          method: operation.method.toUpperCase() as 'GET',
          url: operation.url,
          headers: probe.headers,
          payload: probe.payload,
        });
        seen.add(res.statusCode);
        if (!operation.documented.has(String(res.statusCode))) {
          missing.push(`${operation.where} (${probe.name}): ${res.statusCode}`);
        }
      }
    }
  }
  return { seen, missing: [...new Set(missing)] };
}

describe('every status a route sends is documented on it', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true });
  });
  afterAll(() => t?.close());

  it('without a token, with a forged one, with bodies of the wrong type, size or syntax', async () => {
    const { seen, missing } = await undocumented(t, 1);
    expect(missing).toEqual([]);
    // The probes reach what they are meant to reach.
    for (const status of [400, 401, 413, 415]) expect(seen).toContain(status);
  });
});

describe('past the rate limits', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({
      noSmtp: true,
      env: { RATE_LIMIT_GLOBAL_MAX: '1', RATE_LIMIT_AUTH_MAX: '1' },
    });
  });
  afterAll(() => t?.close());

  it('documents the 429 wherever it comes', async () => {
    const { seen, missing } = await undocumented(t, 2);
    expect(missing).toEqual([]);
    expect(seen).toContain(429);
  });

  it('documents no 429 where none can come: the probes and /metrics are never limited', async () => {
    // From an address of its own: this app's limit of 1 is spent for the usual one.
    const fresh = { remoteAddress: '192.0.2.77' };
    const doc: Doc = (await t.app.inject({ method: 'GET', url: '/openapi.json', ...fresh })).json();
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      expect(Object.keys(doc.paths[path]?.get?.responses ?? {}), path).not.toContain('429');
      const statuses = new Set<number>();
      for (let i = 0; i < 5; i++) {
        statuses.add((await t.app.inject({ method: 'GET', url: path })).statusCode);
      }
      expect([...statuses], path).not.toContain(429);
    }
    // A limited route still documents it.
    expect(Object.keys(doc.paths['/users/me']?.get?.responses ?? {})).toContain('429');
  });
});
