import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastMail } from '../../src/dev/mail-last.js';
import { registerRequest } from '../auth/support.js';
import { cli } from '../data-dir/process.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';

/** `npm run mail:last` reads the newest .eml of the outbox folder; its bare token verifies. */
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

const outbox = () => path.join(t.config.dataDir, 'outbox');

describe('the newest outbox mail', () => {
  it('is none in an empty or missing outbox', async () => {
    expect(await lastMail(outbox())).toBeUndefined();
  });

  it('gives the recipient, subject, link and a bare token that verifies the account', async () => {
    for (const email of [uniqueEmail('older'), uniqueEmail('newest')]) {
      expect((await registerRequest(t, { email })).statusCode).toBe(202);
      await t.app.jobs.runDue();
    }
    const mail = await lastMail(outbox());
    expect(mail).toMatchObject({
      to: expect.stringContaining('newest'),
      subject: 'Confirm your email address',
      link: expect.stringMatching(/\/verify-email\?token=[A-Za-z0-9_-]+$/),
    });
    expect(mail?.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(mail?.link?.endsWith(`token=${mail.token}`)).toBe(true);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/verify-email',
      payload: { token: mail?.token },
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('is printed by `mail-last`, and `--token` prints the token alone', async () => {
    const mail = await lastMail(outbox());
    const env = { DATA_DIR: t.config.dataDir };
    const full = await cli(['mail-last'], env).finished;
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toContain(`to:      ${mail?.to}`);
    expect(full.stdout).toContain('subject: Confirm your email address');
    expect(full.stdout).toContain(`link:    ${mail?.link}`);
    expect(full.stdout).toContain(`token:   ${mail?.token}\n`);
    const bare = await cli(['mail-last', '--token'], env).finished;
    expect(bare).toMatchObject({ code: 0, stdout: `${mail?.token}\n` });
  }, 120_000);
});

describe("the README's sed one-liner (for those without npm)", () => {
  it('prints the bare token of the newest mail', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
      .map((match) => match[1] ?? '')
      .find((code) => code.startsWith('sed '));
    expect(block).toBeDefined();
    // The one-liner reads data/outbox relative to the checkout: give it this app's as ./data.
    const cwd = mkdtempSync(path.join(tmpdir(), 'homefront-readme-'));
    symlinkSync(t.config.dataDir, path.join(cwd, 'data'));
    const run = spawnSync('bash', ['-c', block ?? ''], { cwd, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`${(await lastMail(outbox()))?.token}\n`);
  });
});
