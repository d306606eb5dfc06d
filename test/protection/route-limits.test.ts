import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../../src/plugins/auth.js';
import errors from '../../src/plugins/errors.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

describe('the limiter runs before the guards', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true, env: { RATE_LIMIT_GLOBAL_MAX: '3' } });
  });
  afterAll(() => t.close());

  it('counts requests whose token the guard rejects, so guessing tokens is limited too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/users/me',
        headers: { authorization: 'Bearer not-a-valid-token' },
        remoteAddress: '198.51.100.40',
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('cannot be wired the other way: the auth plugin refuses to start without rate-limits', async () => {
    const app = Fastify({ logger: false });
    app.decorate('config', t.config);
    await app.register(errors);
    app.register(auth, {
      verifyAccessToken: async () => ({ userId: '', sessionId: '' }),
      load: async () => undefined,
      touchSession: async () => undefined,
    });
    await expect(app.ready()).rejects.toThrow(/rate-limits/);
    await app.close();
  });
});
