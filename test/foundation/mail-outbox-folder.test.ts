import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRequest } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';

/**
 * Without SMTP_URL (the zero-setup default) every mail becomes an .eml file under
 * DATA_DIR/outbox, and outside production its link is logged, so a developer can verify an
 * account from the terminal.
 */
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

/** Delivers everything committed so far and waits for it. */
async function deliverPending() {
  await t.app.jobs.runDue();
}

describe('without SMTP_URL, mail goes to DATA_DIR/outbox', () => {
  it('a registration writes the verification mail as an .eml file readable by its owner only', async () => {
    const email = uniqueEmail('outbox');
    const res = await registerRequest(t, { email });
    expect(res.statusCode, res.body).toBe(202);
    await deliverPending();

    const folder = path.join(t.config.dataDir, 'outbox');
    const files = readdirSync(folder).filter((name) => name.endsWith('.eml'));
    const mails = files.map((name) => readFileSync(path.join(folder, name), 'utf8'));
    const index = mails.findIndex((text) => text.includes(`To: ${email}`));
    expect(index, files.join()).toBeGreaterThanOrEqual(0);
    const mail = mails[index]!;
    expect(mail).toMatch(/^Subject: Confirm your email address$/m);
    expect(mail).toMatch(/verify-email\?token=/);
    expect(statSync(path.join(folder, files[index]!)).mode & 0o777).toBe(0o600);

    const logged = t.logs
      .map((line) => JSON.parse(line) as { msg?: string; to?: string; link?: string })
      .find((line) => line.msg === 'mail written to outbox folder' && line.to === email);
    expect(logged?.link).toMatch(/verify-email\?token=/);
  });
});
