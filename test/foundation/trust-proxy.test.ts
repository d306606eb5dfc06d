import { afterAll, describe, expect, it } from 'vitest';
import { type BuiltApp, buildAppWith } from './support.js';

/**
 * The client address (what rate limits and audit rows key on) comes from X-Forwarded-For only
 * when the peer is a proxy TRUST_PROXY names; anyone else's header is ignored.
 */
const apps = new Map<string, BuiltApp>();
/** One trusted address and one trusted CIDR. */
const LIST = '10.0.0.5, 192.168.0.0/16';

async function clientAddress(trust: string | undefined, peer: string, forwardedFor?: string) {
  const key = trust ?? 'unset';
  let built = apps.get(key);
  if (!built) {
    built = await buildAppWith(
      (app) => {
        app.get('/test/ip', async (request) => ({ ip: request.ip }));
      },
      { TRUST_PROXY: trust },
    );
    apps.set(key, built);
  }
  const res = await built.app.inject({
    method: 'GET',
    url: '/test/ip',
    remoteAddress: peer,
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  });
  expect(res.statusCode).toBe(200);
  return (res.json() as { ip: string }).ip;
}

afterAll(async () => {
  for (const built of apps.values()) await built.close();
});

// Each case may build an app of its own; a loaded machine needs more than the default timeout.
describe('the client address', { timeout: 120_000 }, () => {
  it('is the peer when TRUST_PROXY is unset, whatever X-Forwarded-For says', async () => {
    expect(await clientAddress(undefined, '198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
    expect(await clientAddress(undefined, '198.51.100.1', '203.0.113.10')).toBe('198.51.100.1');
  });

  it('comes from X-Forwarded-For when the peer is a trusted address', async () => {
    expect(await clientAddress(LIST, '10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('comes from X-Forwarded-For when the peer is inside a trusted CIDR', async () => {
    expect(await clientAddress(LIST, '192.168.1.2', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('is the peer when the peer is outside the trusted list (a spoofed header is ignored)', async () => {
    expect(await clientAddress(LIST, '198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
  });

  it('takes the entry the trusted proxy appended, not one the client wrote', async () => {
    // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address.
    expect(await clientAddress(LIST, '10.0.0.5', '1.2.3.4, 203.0.113.9')).toBe('203.0.113.9');
  });

  it('with TRUST_PROXY as a hop count of 1, is the address the one proxy saw', async () => {
    expect(await clientAddress('1', '10.0.0.5', '1.2.3.4, 203.0.113.9')).toBe('203.0.113.9');
  });

  it('with TRUST_PROXY as a hop count of 2, looks one proxy further back', async () => {
    expect(await clientAddress('2', '10.0.0.5', '1.2.3.4, 203.0.113.9, 10.0.0.7')).toBe(
      '203.0.113.9',
    );
  });
});
