import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, GENEROUS_LIMITS, type Response } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { serviceInput } from '../services/support.js';

/**
 * One rule for all text (src/lib/validation.ts): NUL, C0/C1 controls and lone surrogates are a
 * 400 naming the field, on every route; CR and LF only in multi-line fields. Before the rule, a
 * NUL reached PostgreSQL and answered 500 (SQLSTATE 22021), and a fullName took CR/LF into mails.
 */

let t: TestContext;
let homeowner = '';
let admin = '';
let provider = '';
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true, env: GENEROUS_LIMITS });
  homeowner = (await loginAs(t, ['homeowner'])).accessToken;
  admin = (await loginAs(t, ['admin'])).accessToken;
  provider = (await loginAs(t, ['service_provider'])).accessToken;
});
afterAll(() => t.close());

const HOSTILE = {
  nul: '\u0000',
  'a C0 control': '\u0007',
  DEL: '\u007f',
  'a C1 control': '\u0085',
  CR: '\r',
  LF: '\n',
  'a lone surrogate': '\ud800',
};

const email = (bad: string) => `ev${bad}il@example.com`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

type Case = [string, () => Promise<Response>, string];

/** A lone surrogate cannot be written in a URL or a form (it is sent as U+FFFD): JSON only. */
const ONLY_JSON = /login username|\?/;

function cases(bad: string): Case[] {
  const register = (overrides: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: {
        email: uniqueEmail('cc'),
        password: STRONG_PASSWORD,
        fullName: 'Ann Ok',
        role: 'homeowner',
        ...overrides,
      },
    });
  return [
    ['register email', () => register({ email: email(bad) }), '/body/email'],
    ['register fullName', () => register({ fullName: `Ann${bad}Evil` }), '/body/fullName'],
    [
      'login email (JSON)',
      () =>
        t.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { email: email(bad), password: STRONG_PASSWORD },
        }),
      '/body/email',
    ],
    [
      'login username (form)',
      () =>
        t.app.inject({
          method: 'POST',
          url: '/auth/login',
          headers: FORM,
          payload: new URLSearchParams({
            username: email(bad),
            password: STRONG_PASSWORD,
          }).toString(),
        }),
      '/body/username',
    ],
    [
      'forgot-password email',
      () =>
        t.app.inject({
          method: 'POST',
          url: '/auth/forgot-password',
          payload: { email: email(bad) },
        }),
      '/body/email',
    ],
    [
      'resend-verification email',
      () =>
        t.app.inject({
          method: 'POST',
          url: '/auth/resend-verification',
          payload: { email: email(bad) },
        }),
      '/body/email',
    ],
    [
      'PUT /users/me fullName',
      () =>
        t.app.inject({
          method: 'PUT',
          url: '/users/me',
          headers: bearer(homeowner),
          payload: { fullName: `Ann${bad}Evil`, phone: null },
        }),
      '/body/fullName',
    ],
    [
      'PATCH /users/me fullName',
      () =>
        t.app.inject({
          method: 'PATCH',
          url: '/users/me',
          headers: bearer(homeowner),
          payload: { fullName: `Ann${bad}Evil` },
        }),
      '/body/fullName',
    ],
    [
      'GET /admin/users?email=',
      () =>
        t.app.inject({
          method: 'GET',
          url: `/admin/users?email=${encodeURIComponent(email(bad))}`,
          headers: bearer(admin),
        }),
      '/querystring/email',
    ],
    [
      'GET /services?q=',
      () =>
        t.app.inject({
          method: 'GET',
          url: `/services?q=${encodeURIComponent(`pipe${bad}`)}`,
          headers: bearer(homeowner),
        }),
      '/querystring/q',
    ],
  ];
}

describe('text with control characters is a 400 naming the field', () => {
  for (const [label, bad] of Object.entries(HOSTILE)) {
    const applicable = cases(bad).filter(
      ([name]) => !(bad === HOSTILE['a lone surrogate'] && ONLY_JSON.test(name)),
    );
    it.each(applicable)(`${label} in %s`, async (_name, send, path) => {
      const problem = expectProblem(await send(), 400, 'validation_failed');
      expect(problem.errors?.map((error) => error.path)).toEqual([path]);
    });
  }

  it('a NUL in a path parameter', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/admin/users/${encodeURIComponent('\u0000')}`,
      headers: bearer(admin),
    });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.map((error) => error.path)).toEqual(['/params/id']);
  });

  it('a fullName of two lines leaves the profile as it was', async () => {
    const before = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      headers: bearer(homeowner),
    });
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/users/me',
      headers: bearer(homeowner),
      payload: { fullName: 'Ann\r\nBcc: victim@example.com' },
    });
    expectProblem(res, 400, 'validation_failed');
    const after = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      headers: bearer(homeowner),
    });
    expect(after.json().fullName).toBe(before.json().fullName);
  });
});

describe('what the rule lets through', () => {
  it('a multi-line description keeps its line breaks and tabs', async () => {
    const description = 'Line one\r\nLine two\n\tindented';
    const res = await t.app.inject({
      method: 'POST',
      url: '/service-providers/services',
      headers: bearer(provider),
      payload: serviceInput({ description }),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().description).toBe(description);
  });

  it('but not a NUL', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/service-providers/services',
      headers: bearer(provider),
      payload: serviceInput({ description: 'Line one\u0000' }),
    });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.map((error) => error.path)).toEqual(['/body/description']);
  });

  it('names in any script, with emoji and a tab', async () => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/users/me',
      headers: bearer(homeowner),
      payload: { fullName: 'Zoë\tÅström 🏠 李' },
    });
    expect(res.statusCode, res.body).toBe(200);
  });
});
