import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from './chromium.js';
import { E2E_DATABASE, type ServerProcess, startServer } from './server-process.js';

const ADMIN = { email: 'docs-admin@example.com', password: 'a long docs password 123' };

describe.skipIf(!haveChromium())(`the interactive docs in a real browser (${E2E_DATABASE})`, () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    expect(await server?.stop()).toBe(0);
  });

  it('shows the endpoint groups, signs in through Authorize (OAuth2 password flow) and calls GET /users/me', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/docs`);
    for (const tag of [
      'auth',
      'users',
      'properties',
      'services',
      'catalog',
      'admin',
      'operations',
    ]) {
      await page.locator(`#operations-tag-${tag}`).waitFor();
    }

    await page.locator('button.authorize').first().click();
    await page.locator('#oauth_username').fill(ADMIN.email);
    await page.locator('#oauth_password').fill(ADMIN.password);
    await page
      .locator('.auth-container')
      .filter({ has: page.locator('#oauth_username') })
      .locator('button.authorize')
      .click();
    await page.getByText('Logout').first().waitFor();
    await page.locator('button.btn-done').first().click();

    const operation = page.locator('#operations-users-getMe');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = operation
      .locator('.live-responses-table .response .response-col_status')
      .first();
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('200');
    await expect
      .poll(() => operation.locator('.live-responses-table .microlight').first().textContent())
      .toContain(ADMIN.email);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/docs-users-me.png', fullPage: false });
  });
});
