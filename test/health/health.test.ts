import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/lib/version.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t.close());

describe('GET /health/live', () => {
  it('answers 200 ok', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: VERSION });
  });
});

describe('GET /health/ready', () => {
  it('answers 200 when the database answers and migrations are applied', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(200);
  });
});
