import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailbox, type ReceivedMail } from '../helpers/mailbox.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { linkFrom } from '../pages/support.js';
import { haveChromium, launchChromium } from './chromium.js';
import { E2E_DATABASE, type ServerProcess, startServer } from './server-process.js';

const NEW_PASSWORD = 'a brand new passphrase 2026';

/**
 * A person with nothing but the API and a mailbox (PUBLIC_APP_URL unset): opens the mail's link
 * in a real browser, confirms the address, later resets the password, through the API's pages.
 */
describe.skipIf(!haveChromium())(`the account pages in a real browser (${E2E_DATABASE})`, () => {
  let server: ServerProcess;
  let browser: Browser;
  const mailbox = new Mailbox();

  beforeAll(async () => {
    await mailbox.start();
    server = await startServer({ SMTP_URL: mailbox.url });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    expect(await server?.stop()).toBe(0);
    await mailbox.stop();
  });

  async function nextMail(email: string, subject: RegExp): Promise<ReceivedMail> {
    for (;;) {
      const mail = await mailbox.next(email);
      if (subject.test(mail.subject)) return mail;
    }
  }

  const api = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** A page that records what a strict CSP would refuse and every request it makes. */
  async function watchedPage() {
    const page = await browser.newPage();
    const violations: string[] = [];
    const requests: URL[] = [];
    const referers: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    page.on('request', (request) => {
      requests.push(new URL(request.url()));
      const referer = request.headers().referer;
      if (referer) referers.push(`${request.url()} from ${referer}`);
    });
    return { page, violations, requests, referers };
  }

  const heading = (page: Page) => page.locator('h1').textContent();

  it('verifies an account from the link in its mail, then signs in', async () => {
    const email = uniqueEmail('browser');
    const registered = await api('/auth/register', {
      email,
      password: STRONG_PASSWORD,
      fullName: 'Browser User',
      role: 'homeowner',
    });
    expect(registered.status).toBe(202);
    const link = linkFrom(await nextMail(email, /confirm your email/i), 'verify-email');
    // With PUBLIC_APP_URL unset, the link leads to the API itself (as localhost).
    expect(link.port).toBe(new URL(server.url).port);

    const { page, violations, requests, referers } = await watchedPage();
    await page.goto(link.href);
    expect(await heading(page)).toBe('Confirm your email address');
    // The page's own style sheet applies: its hash is in the CSP.
    const button = page.getByRole('button', { name: 'Confirm my email address' });
    // (A string, evaluated in the page: this project's TypeScript has no DOM types.)
    const background = await page.evaluate(
      "getComputedStyle(document.querySelector('button')).backgroundColor",
    );
    expect(background).toBe('rgb(29, 78, 216)');
    expect((await api('/auth/login', { email, password: STRONG_PASSWORD })).status).toBe(403);

    await button.click();
    await page.waitForURL((url) => url.pathname === '/verify-email' && url.search === '');
    expect(await heading(page)).toBe('Your email address is confirmed');
    expect((await api('/auth/login', { email, password: STRONG_PASSWORD })).status).toBe(200);

    expect(violations).toEqual([]);
    // Nothing went to another origin, and no request said where it came from (the token's URL).
    expect(new Set(requests.map((url) => url.origin))).toEqual(new Set([link.origin]));
    expect(referers).toEqual([]);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/pages-verified.png' });
    await page.close();
  });

  it('resets a password: asks for a link, refuses a common password, sets a strong one', async () => {
    const email = uniqueEmail('browser-reset');
    await api('/auth/register', {
      email,
      password: STRONG_PASSWORD,
      fullName: 'Browser Reset',
      role: 'homeowner',
    });
    await nextMail(email, /confirm your email/i);

    const { page, violations, referers } = await watchedPage();
    await page.goto(`${server.url}/forgot-password`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();

    const link = linkFrom(await nextMail(email, /reset your password/i), 'reset-password');
    await page.goto(link.href);
    expect(await heading(page)).toBe('Choose a new password');

    await page.getByLabel('New password').fill('password123');
    await page.getByLabel('The same password again').fill('password123');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/most commonly used/);

    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByLabel('The same password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Your password is changed' }).waitFor();
    await page.screenshot({ path: 'test-results/pages-password-changed.png' });

    // Signing in after a reset also proves the address: the reset counts as verification.
    expect((await api('/auth/login', { email, password: STRONG_PASSWORD })).status).toBe(401);
    expect((await api('/auth/login', { email, password: NEW_PASSWORD })).status).toBe(200);

    // The link is used up: opened again, its form now leads to "no longer works".
    await page.goto(link.href);
    await page.getByLabel('New password').fill(`${NEW_PASSWORD}!`);
    await page.getByLabel('The same password again').fill(`${NEW_PASSWORD}!`);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
    expect(violations).toEqual([]);
    expect(referers).toEqual([]);
    await page.close();
  });
});
