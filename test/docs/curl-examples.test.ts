import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailbox, type ReceivedMail, tokenFrom } from '../helpers/mailbox.js';
import { totpCode } from '../helpers/mfa.js';
import { freePort } from '../helpers/net.js';

/**
 * docs/api-usage.md is executable: every ```sh block runs, in order, with bash against the real
 * server (`node --import tsx src/server.ts`, as a child process on a fresh embedded database).
 *
 * - A block must exit 0. One marked `# expect: NNN` shows an error on purpose: its single
 *   `curl -sS -i` must answer HTTP NNN.
 * - Variables a block assigns (`TOKEN=…`) are carried into the blocks after it, as in one shell.
 * - `$VERIFY_TOKEN` / `$RESET_TOKEN` / `$EMAIL_CHANGE_TOKEN`: before a block that uses one, the
 *   token of the next verification / reset / email-change confirmation mail is read from an
 *   in-process SMTP server the app delivers to.
 * - `$TOTP_CODE`: before a block that uses it, the code an authenticator app would show for the
 *   `$TOTP_SECRET` an earlier block saved, computed here (RFC 6238); each block gets a code of a
 *   later 30-second step than the one before, since a code is accepted once.
 *
 * DOCS_EXAMPLES_LOG=/tmp/out.txt appends what each block printed, to refresh the sample answers.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/api-usage.md';
const SERVER = path.join(ROOT, 'src', 'server.ts');
const TSX = pathToFileURL(createRequire(path.join(ROOT, 'package.json')).resolve('tsx')).href;

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'docs admin password 1';
const START_TIMEOUT_MS = 120_000;
const MAIL_TIMEOUT_MS = 15_000;
const BLOCK_TIMEOUT_MS = 20_000;

type MailToken = 'VERIFY_TOKEN' | 'RESET_TOKEN' | 'EMAIL_CHANGE_TOKEN';
const MAIL_LINKS: Record<MailToken, string> = {
  VERIFY_TOKEN: '/verify-email?token=',
  RESET_TOKEN: '/reset-password?token=',
  EMAIL_CHANGE_TOKEN: '/confirm-email-change?token=',
};

interface Example {
  /** 1-based line of the opening fence in the document. */
  line: number;
  code: string;
  expectStatus: number | undefined;
  mailTokens: MailToken[];
  /** Shell variables the block sets, carried into the next blocks. */
  assigns: string[];
  /** Uses `$TOTP_CODE`. */
  totp: boolean;
}

function examples(markdown: string): Example[] {
  const found: Example[] = [];
  for (const match of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const code = match[1] ?? '';
    const expectMatch = /^# expect: (\d{3})$/m.exec(code);
    found.push({
      line: markdown.slice(0, match.index).split('\n').length,
      code,
      expectStatus: expectMatch ? Number(expectMatch[1]) : undefined,
      mailTokens: (Object.keys(MAIL_LINKS) as MailToken[]).filter((name) =>
        new RegExp(`\\$\\{?${name}\\b`).test(code),
      ),
      assigns: [
        ...new Set([...code.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1] ?? '')),
      ],
      totp: /\$\{?TOTP_CODE\b/.test(code),
    });
  }
  return found;
}

/** Bounded polling: `probe` until it returns a value, or fail after `timeoutMs`. */
async function pollFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: BLOCK_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const markdown = readFileSync(path.join(ROOT, DOC), 'utf8');
const blocks = examples(markdown);

describe(`${DOC} as written`, () => {
  it('has examples for every endpoint group', () => {
    const all = blocks.map((block) => block.code).join('\n');
    for (const route of [
      '/auth/',
      '/users/me',
      '/homeowners/properties',
      '/service-providers/services',
      '$BASE/services',
      '/admin/',
      '/health/',
      '/metrics',
      '/openapi.json',
    ]) {
      expect(all, route).toContain(route);
    }
  });

  it('fails on HTTP errors unless a block expects one', () => {
    for (const block of blocks) {
      // The short options of each curl, run together: "-fsS -i" gives "fsSi".
      const curls = [...block.code.matchAll(/\bcurl((?:\s+-[A-Za-z]+)+)/g)].map((m) =>
        (m[1] ?? '').replace(/[\s-]/g, ''),
      );
      if (block.expectStatus === undefined) {
        for (const flags of curls) expect(flags, `line ${block.line}: curl -f`).toContain('f');
      } else {
        expect(curls, `line ${block.line}: one curl per expected error`).toHaveLength(1);
        expect(curls[0], `line ${block.line}: curl -i shows the status`).toContain('i');
        expect(curls[0], `line ${block.line}: no -f where an error is expected`).not.toContain('f');
      }
    }
  });
});

describe(`${DOC} against a running server`, () => {
  const mailbox = new Mailbox();
  const usedMail = new Set<ReceivedMail>();
  const workDir = mkdtempSync(path.join(tmpdir(), 'homefront-docs-'));
  const dataDir = path.join(workDir, 'data');
  const state = path.join(workDir, 'shell-state.sh');
  let server: ChildProcess | undefined;
  let output = '';
  let base = '';
  let failed = false;

  beforeAll(async () => {
    const jq = spawnSync('jq', ['--version']);
    if (jq.status !== 0) throw new Error(`${DOC} needs jq on the PATH (apt-get install -y jq)`);

    await mailbox.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    writeFileSync(state, '');
    server = spawn(process.execPath, ['--import', TSX, SERVER], {
      // A folder of its own as working directory: a developer's .env or ./data never leaks in.
      cwd: workDir,
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: workDir,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        JWT_SECRET: 'docs-test-jwt-secret-that-is-at-least-32-bytes',
        PASSWORD_PEPPER: 'docs-test-pepper-that-is-at-least-32-bytes-long',
        BCRYPT_COST: '4',
        LOG_LEVEL: 'info',
        SMTP_URL: mailbox.url,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    server.stdout?.on('data', keep);
    server.stderr?.on('data', keep);

    // The server logs "ready" once migrations and startup tasks (the first admin) are done.
    await pollFor(
      () => {
        if (server?.exitCode !== null) throw new Error(`the server exited:\n${output}`);
        return /"msg":"ready"/.test(output) ? true : undefined;
      },
      START_TIMEOUT_MS,
      `the server to start:\n${output}`,
    );
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
  }, START_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server?.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    }
    await mailbox.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** The token of the oldest mail carrying `name`'s link that no block has used yet. */
  async function mailToken(name: MailToken): Promise<string> {
    const mail = await pollFor(
      () =>
        mailbox.received.find(
          (candidate) => !usedMail.has(candidate) && candidate.text.includes(MAIL_LINKS[name]),
        ),
      MAIL_TIMEOUT_MS,
      `a mail with a ${MAIL_LINKS[name]} link`,
    );
    usedMail.add(mail);
    return tokenFrom(mail);
  }

  /**
   * The code of the app for the secret the blocks saved: of the current step, or of the next one
   * (the server allows ±1 step) when the current one was handed out already.
   */
  let lastStep = 0;
  function nextTotpCode(): string {
    const saved = [...readFileSync(state, 'utf8').matchAll(/^TOTP_SECRET=([A-Z2-7]+)$/gm)].at(-1);
    if (!saved?.[1]) throw new Error('a block uses $TOTP_CODE before one saved $TOTP_SECRET');
    const now = Date.now();
    const step = Math.max(Math.floor(now / 30_000), lastStep + 1);
    if (step > Math.floor(now / 30_000) + 1) throw new Error('more than two codes in 30 s');
    lastStep = step;
    return totpCode(saved[1], new Date(step * 30_000));
  }

  for (const [index, block] of blocks.entries()) {
    const title = `block ${index + 1} (line ${block.line})${
      block.expectStatus ? `, expects ${block.expectStatus}` : ''
    }`;
    it(title, async (context) => {
      // Later blocks build on earlier ones; after a failure they would only fail for its sake.
      if (failed) context.skip();
      failed = true;

      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: workDir,
        LANG: 'C.UTF-8',
        BASE: base,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        DOCS_STATE: state,
      };
      for (const name of block.mailTokens) env[name] = await mailToken(name);
      if (block.totp) env.TOTP_CODE = nextTotpCode();

      const save = block.assigns
        .map((name) => `printf '%s=%q\\n' ${name} "\${${name}-}" >> "$DOCS_STATE"`)
        .join('\n');
      const script = `set -a\n. "$DOCS_STATE"\nset +a\n${block.code}\n${save}\n`;
      const run = await bash(script, env);
      if (process.env.DOCS_EXAMPLES_LOG) {
        appendFileSync(process.env.DOCS_EXAMPLES_LOG, `--- line ${block.line}\n${run.stdout}\n`);
      }
      const report = `--- ${DOC}:${block.line}\n${block.code}--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

      expect(run.code, report).toBe(0);
      if (block.expectStatus !== undefined) {
        const statuses = [...run.stdout.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => m[1]);
        expect(statuses.at(-1), report).toBe(String(block.expectStatus));
      }
      failed = false;
    });
  }
});
