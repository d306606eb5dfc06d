import { afterAll, describe, expect, it } from 'vitest';
import { post, registerAndReadToken, registerVerified, resetTokenFor } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { API_LINKS, expectPage, headingOf, open, submit } from './support.js';

/** Every failure of the pages is a page: the status a JSON route would give, and what to do. */
const t = await createTestApp({ env: API_LINKS });
afterAll(() => t.close());

const NEW_PASSWORD = 'a brand new passphrase 2026';
const UNKNOWN_TOKEN = 'x'.repeat(43);

describe('a damaged link', () => {
  it.each([
    ['no token', ''],
    ['an empty token', '?token='],
    ['a cut-off token', '?token=abc'],
    ['a token with foreign characters', `?token=${'a'.repeat(20)}%21%3C`],
    ['an over-long token', `?token=${'a'.repeat(300)}`],
  ])('%s: 400 page that says the link is incomplete', async (_case, query) => {
    for (const page of ['/verify-email', '/reset-password']) {
      const html = expectPage(await open(t, `${page}${query}`), 400);
      expect(html).toContain('This link is incomplete');
      expect(html).not.toContain('<form');
    }
  });

  it('ignores parameters a mail client or link tracker adds', async () => {
    const html = expectPage(
      await open(t, `/verify-email?token=${UNKNOWN_TOKEN}&utm_source=mail&utm_medium=email`),
      200,
    );
    expect(headingOf(html)).toBe('Confirm your email address');
  });
});

describe('a token that does not work', () => {
  it('unknown: 400 "This link no longer works"', async () => {
    const html = expectPage(await submit(t, '/verify-email', { token: UNKNOWN_TOKEN }), 400);
    expect(headingOf(html)).toBe('This link no longer works');
    expect(html).toContain(`Reference: `);
  });

  it('used already: the second confirmation is 400', async () => {
    const { token } = await registerAndReadToken(t);
    expectPage(await submit(t, '/verify-email', { token }), 200);
    const html = expectPage(await submit(t, '/verify-email', { token }), 400);
    expect(headingOf(html)).toBe('This link no longer works');
    expect(html).toContain('If you have confirmed your address already, you can sign in.');
  });

  it('expired: 400, and the reset page offers a new link', async () => {
    const { email } = await registerVerified(t);
    const token = await resetTokenFor(t, email);
    t.clock.advance(t.config.resetTokenTtl + 1);
    const html = expectPage(
      await submit(t, '/reset-password', {
        token,
        newPassword: NEW_PASSWORD,
        confirmPassword: NEW_PASSWORD,
      }),
      400,
    );
    expect(headingOf(html)).toBe('This link no longer works');
    expect(html).toContain('<a href="forgot-password">Ask for a new link</a>');
  });

  it('superseded by a newer link: 400', async () => {
    const { email } = await registerVerified(t);
    const older = await resetTokenFor(t, email);
    await resetTokenFor(t, email);
    const html = expectPage(
      await submit(t, '/reset-password', {
        token: older,
        newPassword: NEW_PASSWORD,
        confirmPassword: NEW_PASSWORD,
      }),
      400,
    );
    expect(headingOf(html)).toBe('This link no longer works');
  });

  it('a verification token on the reset page (or the reverse) does not work', async () => {
    const { email, token: verifyToken } = await registerAndReadToken(t);
    const resetTry = await submit(t, '/reset-password', {
      token: verifyToken,
      newPassword: NEW_PASSWORD,
      confirmPassword: NEW_PASSWORD,
    });
    expectPage(resetTry, 400);
    expect((await post(t, '/auth/verify-email', { token: verifyToken })).statusCode).toBe(200);
    const resetToken = await resetTokenFor(t, email);
    expectPage(await submit(t, '/verify-email', { token: resetToken }), 400);
  });
});

describe('a form that is not right', () => {
  it('missing or unknown fields: 400 page', async () => {
    expectPage(await submit(t, '/verify-email', {}), 400);
    expectPage(await submit(t, '/verify-email', { token: UNKNOWN_TOKEN, role: 'admin' }), 400);
    expectPage(await submit(t, '/reset-password', { token: UNKNOWN_TOKEN }), 400);
  });

  it('an address that is not one: 400 page with a way back', async () => {
    const html = expectPage(await submit(t, '/forgot-password', { email: 'not an address' }), 400);
    expect(html).toContain('<a href="forgot-password">Try again</a>');
  });

  it('JSON instead of a form: 415 page', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/verify-email',
      payload: { token: UNKNOWN_TOKEN },
    });
    const html = expectPage(res, 415);
    expect(html).toContain('Send the form from this page.');
  });

  it('an oversized form: 413 page', async () => {
    const res = await submit(t, '/forgot-password', { email: `${'a'.repeat(9_000)}@example.com` });
    expectPage(res, 413);
  });
});

describe('rate limits', () => {
  it('answer 429 as a page with Retry-After', async () => {
    const limited = await createTestApp({
      env: { ...API_LINKS, RATE_LIMIT_AUTH_MAX: '2' },
      noSmtp: true,
    });
    try {
      const statuses: number[] = [];
      let last = await submit(limited, '/verify-email', { token: UNKNOWN_TOKEN });
      statuses.push(last.statusCode);
      while (last.statusCode !== 429 && statuses.length < 5) {
        last = await submit(limited, '/verify-email', { token: UNKNOWN_TOKEN });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([400, 400, 429]);
      const html = expectPage(last, 429);
      expect(headingOf(html)).toBe('Too many attempts');
      expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
