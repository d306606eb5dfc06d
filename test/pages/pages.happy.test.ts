import { afterAll, describe, expect, it } from 'vitest';
import { loginRequest, nextMail, post, registerRequest, userRow } from '../auth/support.js';
import { createTestApp } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { API_LINKS, expectPage, formOf, headingOf, linkFrom, open, submit } from './support.js';

/** PUBLIC_APP_URL unset: the links in mails lead to the API's own pages, and they work. */
const t = await createTestApp({ env: API_LINKS });
afterAll(() => t.close());

const NEW_PASSWORD = 'a brand new passphrase 2026';

async function registered(email = uniqueEmail('page')) {
  const res = await registerRequest(t, { email });
  expect(res.statusCode).toBe(202);
  return { email, mail: await nextMail(t, email, /confirm your email/i) };
}

describe('with PUBLIC_APP_URL unset', () => {
  it('links the mails to the API itself, at the address it listens on', () => {
    expect(t.config.linkPages).toBe('api');
    expect(t.config.publicAppUrl).toBe(`http://localhost:${t.config.port}`);
  });

  it('verifies an account through the page the verification link opens', async () => {
    const { email, mail } = await registered();
    const link = linkFrom(mail, 'verify-email');
    expect(link.origin).toBe(t.config.publicAppUrl);

    const page = expectPage(await open(t, link), 200);
    expect(headingOf(page)).toBe('Confirm your email address');
    const form = formOf(await open(t, link), link.pathname);
    expect(form).toEqual({
      action: '/verify-email',
      method: 'post',
      hidden: { token: link.searchParams.get('token') },
      fields: [],
    });
    // Showing the page used nothing up.
    expect((await userRow(t, email))?.emailVerified).toBe(false);
    expect((await loginRequest(t, email, STRONG_PASSWORD)).json().code).toBe('email_not_verified');

    const done = expectPage(await submit(t, form.action, form.hidden), 200);
    expect(headingOf(done)).toBe('Your email address is confirmed');
    expect((await userRow(t, email))?.emailVerified).toBe(true);
    expect((await loginRequest(t, email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('resets a password through the forgotten-password page and the page the reset link opens', async () => {
    const { email, mail } = await registered();
    expect((await post(t, '/auth/verify-email', { token: tokenFrom(mail) })).statusCode).toBe(200);
    const session = (await loginRequest(t, email, STRONG_PASSWORD)).json();

    const forgotPage = await open(t, '/forgot-password');
    expectPage(forgotPage, 200);
    const ask = formOf(forgotPage, '/forgot-password');
    expect(ask).toMatchObject({ action: '/forgot-password', method: 'post', fields: ['email'] });
    const sent = expectPage(await submit(t, ask.action, { email }), 200);
    expect(headingOf(sent)).toBe('Check your mail');

    const link = linkFrom(await nextMail(t, email, /reset your password/i), 'reset-password');
    expect(link.origin).toBe(t.config.publicAppUrl);
    const form = formOf(await open(t, link), link.pathname);
    expect(form).toEqual({
      action: '/reset-password',
      method: 'post',
      hidden: { token: link.searchParams.get('token') },
      fields: ['newPassword', 'confirmPassword'],
    });

    const done = expectPage(
      await submit(t, form.action, {
        ...form.hidden,
        newPassword: NEW_PASSWORD,
        confirmPassword: NEW_PASSWORD,
      }),
      200,
    );
    expect(headingOf(done)).toBe('Your password is changed');
    expect((await loginRequest(t, email, STRONG_PASSWORD)).statusCode).toBe(401);
    expect((await loginRequest(t, email, NEW_PASSWORD)).statusCode).toBe(200);
    // Signed out everywhere, as through the JSON route.
    expect(
      (await post(t, '/auth/refresh', { refresh_token: session.refresh_token })).statusCode,
    ).toBe(401);
  });

  it('gives the form back, token unused, for two different passwords or a weak one', async () => {
    const { email, mail } = await registered();
    await post(t, '/auth/verify-email', { token: tokenFrom(mail) });
    await submit(t, '/forgot-password', { email });
    const link = linkFrom(await nextMail(t, email, /reset your password/i), 'reset-password');
    const { hidden } = formOf(await open(t, link), link.pathname);

    const mismatch = expectPage(
      await submit(t, '/reset-password', {
        ...hidden,
        newPassword: NEW_PASSWORD,
        confirmPassword: `${NEW_PASSWORD}!`,
      }),
      400,
    );
    expect(mismatch).toContain('The two passwords are not the same.');
    expect(formOf({ body: mismatch }, '/reset-password').hidden).toEqual(hidden);

    const weak = expectPage(
      await submit(t, '/reset-password', {
        ...hidden,
        newPassword: 'password123',
        confirmPassword: 'password123',
      }),
      400,
    );
    expect(headingOf(weak)).toBe('Choose a new password');
    expect(weak).toContain('among the most commonly used');

    const sameAsEmail = expectPage(
      await submit(t, '/reset-password', { ...hidden, newPassword: email, confirmPassword: email }),
      400,
    );
    expect(sameAsEmail).toContain('must not be the email address');

    const done = await submit(t, '/reset-password', {
      ...hidden,
      newPassword: NEW_PASSWORD,
      confirmPassword: NEW_PASSWORD,
    });
    expectPage(done, 200);
    expect((await loginRequest(t, email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('sends a known address that registers again to the forgotten-password page, not to a /login the API lacks', async () => {
    const { email } = await registered();
    await registerRequest(t, { email });
    const mail = await nextMail(t, email, /already have/i);
    expect(mail.text).toContain(`${t.config.publicAppUrl}/forgot-password`);
    expect(mail.text).not.toContain('/login');
    expect(mail.html).toContain(`href="${t.config.publicAppUrl}/forgot-password"`);
    expectPage(await open(t, new URL(`${t.config.publicAppUrl}/forgot-password`)), 200);
  });
});

describe('with PUBLIC_APP_URL unset in production', () => {
  it('says at start where the links in mails will point', async () => {
    const production = await createTestApp({
      env: { ...API_LINKS, NODE_ENV: 'production', BCRYPT_COST: '12', HOST: '0.0.0.0' },
      noSmtp: true,
    });
    try {
      const warning = production.logs
        .map((line) => JSON.parse(line))
        .find((entry) => /no PUBLIC_APP_URL in production/.test(entry.msg));
      expect(warning).toMatchObject({ level: 40, links: 'http://localhost:3000' });
    } finally {
      await production.close();
    }
  });
});

describe('with PUBLIC_APP_URL set', () => {
  it('links the mails to the front end, as before, with its sign-in page', async () => {
    const front = await createTestApp({ env: { PUBLIC_APP_URL: 'https://app.example.com/' } });
    try {
      expect(front.config.linkPages).toBe('frontend');
      const email = uniqueEmail('front');
      await registerRequest(front, { email });
      const mail = await nextMail(front, email, /confirm your email/i);
      expect(linkFrom(mail, 'verify-email').origin).toBe('https://app.example.com');
      await registerRequest(front, { email });
      const again = await nextMail(front, email, /already have/i);
      expect(again.text).toContain('https://app.example.com/login');
    } finally {
      await front.close();
    }
  });
});
