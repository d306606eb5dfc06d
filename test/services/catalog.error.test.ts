import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { CATALOG } from './support.js';

let t: TestContext;
let viewer: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  viewer = await loginAs(t, ['homeowner']);
});
afterAll(() => t?.close());

describe('GET /services validates its query string', () => {
  it.each([
    ['an unknown category', { category: 'astrology' }, '/querystring/category'],
    ['an empty category', { category: '' }, '/querystring/category'],
    ['a category in another case', { category: 'PLUMBING' }, '/querystring/category'],
    ['an empty postalCode', { postalCode: '' }, '/querystring/postalCode'],
    ['a postalCode of punctuation', { postalCode: '%' }, '/querystring/postalCode'],
    ['a postalCode over 16 characters', { postalCode: '1'.repeat(17) }, '/querystring/postalCode'],
    ['an empty q', { q: '' }, '/querystring/q'],
    ['a blank q', { q: '   ' }, '/querystring/q'],
    ['a q over 200 characters', { q: 'a'.repeat(201) }, '/querystring/q'],
    ['a q with a NUL byte', { q: 'leak\u0000' }, '/querystring/q'],
    ['a q with a line break', { q: 'leak\nrepair' }, '/querystring/q'],
    ['limit 0', { limit: '0' }, '/querystring/limit'],
    ['limit 101', { limit: '101' }, '/querystring/limit'],
    ['a negative limit', { limit: '-1' }, '/querystring/limit'],
    ['a limit that is not a number', { limit: 'all' }, '/querystring/limit'],
    ['a cursor with foreign characters', { cursor: 'a+b/c=' }, '/querystring/cursor'],
    ['a cursor that decodes to no id', { cursor: 'bm90LWFuLWlk' }, '/querystring/cursor'],
    ['a cursor over 200 characters', { cursor: 'a'.repeat(201) }, '/querystring/cursor'],
    ['an unknown parameter', { order: 'price' }, '/querystring/order'],
    ['a provider filter nobody offered', { providerId: 'x' }, '/querystring/providerId'],
  ])('%s: 400', async (_case, query, path) => {
    const res = await t.app.inject({ method: 'GET', url: CATALOG, headers: viewer.headers, query });
    expect(res.statusCode, res.body).toBe(400);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((error: { path: string }) => error.path)).toContain(path);
  });

  it.each([
    ['q', 'q=leak&q=repair'],
    ['category', 'category=plumbing&category=hvac'],
    ['postalCode', 'postalCode=94107&postalCode=10115'],
  ])('%s given twice: 400', async (_case, search) => {
    const res = await t.app.inject({
      method: 'GET',
      url: `${CATALOG}?${search}`,
      headers: viewer.headers,
    });
    expect(res.statusCode).toBe(400);
  });

  it('a path below /services that is no route: 404', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `${CATALOG}/018f0000-0000-7000-8000-000000000000`,
      headers: viewer.headers,
    });
    expect(res.statusCode).toBe(404);
  });
});
