import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import {
  post,
  registerAndReadToken,
  registerVerified,
  resetTokenFor,
  userRow,
} from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { API_LINKS, expectPage, open, submit } from './support.js';

/**
 * The pages hold a live one-time token: nothing may use it up but a person's POST, and nothing
 * may carry it anywhere else (no third-party request, no Referer, no cache, no log line).
 */
const t = await createTestApp({ env: API_LINKS });
afterAll(() => t.close());

const NEW_PASSWORD = 'a brand new passphrase 2026';

/** The CSP directives of a response, by name. */
function csp(res: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(
    String(res.headers['content-security-policy'])
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values.join(' ')]),
  );
}

async function pages() {
  const { token } = await registerAndReadToken(t);
  return {
    token,
    responses: {
      'the confirmation page': await open(t, `/verify-email?token=${token}`),
      'the reset page': await open(t, `/reset-password?token=${token}`),
      'the forgotten-password page': await open(t, '/forgot-password'),
      'an error page': await submit(t, '/verify-email', { token: 'x'.repeat(43) }),
      'a damaged-link page': await open(t, '/verify-email?token=abc'),
    },
  };
}

describe('headers', () => {
  it('a strict CSP: nothing but the page’s own style sheet, by hash; forms post only here', async () => {
    const { responses } = await pages();
    for (const [name, res] of Object.entries(responses)) {
      const html = res.body;
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
      const hash = createHash('sha256').update(style).digest('base64');
      expect(csp(res), name).toEqual({
        'default-src': "'none'",
        'style-src': `'sha256-${hash}'`,
        'form-action': "'self'",
        'frame-ancestors': "'none'",
        'base-uri': "'none'",
      });
    }
  });

  it('no-store, no-referrer, nosniff, no framing, no indexing, no cookie', async () => {
    const { responses } = await pages();
    for (const [name, res] of Object.entries(responses)) {
      expect(res.headers['cache-control'], name).toBe('no-store');
      expect(res.headers['referrer-policy'], name).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], name).toBe('nosniff');
      expect(res.headers['x-frame-options'], name).toBe('DENY');
      expect(res.headers['x-robots-tag'], name).toBe('noindex');
      expect(res.headers['set-cookie'], name).toBeUndefined();
    }
  });
});

describe('the markup', () => {
  it('has no script, no inline style attribute and nothing from another origin', async () => {
    const { responses } = await pages();
    for (const [name, res] of Object.entries(responses)) {
      const html = expectPage(res, res.statusCode);
      expect(html, name).not.toMatch(/<script|<iframe|<img|<link|\son\w+=|\sstyle=/i);
      expect(html, name).not.toMatch(/(src|href|action)="(https?:)?\/\//i);
      expect(html, name).toContain('<meta name="referrer" content="no-referrer">');
    }
  });

  it('escapes what it echoes: a hostile token never reaches the markup', async () => {
    for (const hostile of ['"><script>alert(1)</script>', '<b>x</b>'.repeat(4)]) {
      const res = await open(t, `/reset-password?token=${encodeURIComponent(hostile)}`);
      expectPage(res, 400);
      expect(res.body).not.toContain('<script>alert');
      expect(res.body).not.toContain('<b>x</b>');
    }
  });

  it('shows the token only in the form that posts it, never on a result page', async () => {
    const { token } = await registerAndReadToken(t);
    const form = await open(t, `/verify-email?token=${token}`);
    expect(form.body.split(token)).toHaveLength(2);
    expect(form.body).toContain(`<input type="hidden" name="token" value="${token}">`);
    const done = await submit(t, '/verify-email', { token });
    expect(done.body).not.toContain(token);
    const again = await submit(t, '/verify-email', { token });
    expect(again.body).not.toContain(token);
  });
});

describe('a GET uses nothing up (link scanners follow links)', () => {
  it('the confirmation link opened many times, HEAD included, still confirms once', async () => {
    const { email, token } = await registerAndReadToken(t);
    for (let i = 0; i < 5; i++) expectPage(await open(t, `/verify-email?token=${token}`), 200);
    await t.app.inject({ method: 'HEAD', url: `/verify-email?token=${token}` });
    expect((await userRow(t, email))?.emailVerified).toBe(false);
    expectPage(await submit(t, '/verify-email', { token }), 200);
    expect((await userRow(t, email))?.emailVerified).toBe(true);
  });

  it('the reset link opened many times still resets once', async () => {
    const { email } = await registerVerified(t);
    const token = await resetTokenFor(t, email);
    for (let i = 0; i < 5; i++) expectPage(await open(t, `/reset-password?token=${token}`), 200);
    const fields = { token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD };
    expectPage(await submit(t, '/reset-password', fields), 200);
    expectPage(await submit(t, '/reset-password', fields), 400);
  });
});

describe('logs', () => {
  it('never hold the token of a link, only [redacted]', async () => {
    const { token } = await registerAndReadToken(t);
    await open(t, `/verify-email?token=${token}&utm_source=mail`);
    await open(t, `/reset-password?token=${token}`);
    await submit(t, '/verify-email', { token });
    await post(t, '/auth/verify-email', { token });
    const lines = t.logs.join('');
    expect(lines).not.toContain(token);
    expect(lines).toContain('/verify-email?token=[redacted]&utm_source=mail');
  });
});
