import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';

/**
 * Route schemas compile on first use (src/lib/lazy-schemas.ts), and the server compiles the rest
 * once it listens: every one of them must compile, and a request works before and after.
 */
describe('route schemas compiled lazily', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true });
  });
  afterAll(() => t?.close());

  it('validates and serializes a route no one has compiled yet', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    const health = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(health.statusCode).toBe(200);
  });

  it('compiles every other route schema without an error, once', async () => {
    const compiled = await t.app.compileSchemas();
    // Over a hundred routes, each with a response schema and most with a request schema.
    expect(compiled).toBeGreaterThan(200);
    expect(await t.app.compileSchemas()).toBe(0);
  });

  it('answers the same after compiling everything', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
  });
});
