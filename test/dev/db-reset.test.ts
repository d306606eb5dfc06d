import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/db/data-dir.js';
import { workDir } from '../data-dir/process.js';
import { runCli } from '../rbac/cli-runner.js';

/** A DATA_DIR with an (imitation) embedded database, an outbox and generated secrets. */
function dataDir() {
  const dir = path.join(workDir(), 'data');
  mkdirSync(path.join(dir, 'pglite'), { recursive: true });
  mkdirSync(path.join(dir, 'outbox'));
  writeFileSync(path.join(dir, 'pglite', 'PG_VERSION'), '17');
  writeFileSync(path.join(dir, '.jwt-secret'), 'kept');
  return dir;
}

// DATABASE_URL unset: db:reset is about the embedded database only.
const env = (dir: string) => ({ DATA_DIR: dir, DATABASE_URL: '' });

describe('npm run db:reset', () => {
  it('keeps the database unless the answer is yes', async () => {
    const dir = dataDir();
    const run = await runCli(['db-reset'], { env: env(dir), stdin: 'no\n' });
    expect(run.code).toBe(1);
    expect(existsSync(path.join(dir, 'pglite', 'PG_VERSION'))).toBe(true);
  }, 120_000);

  it('deletes the embedded database after "yes", keeping the outbox and secrets', async () => {
    const dir = dataDir();
    const run = await runCli(['db-reset'], { env: env(dir), stdin: 'yes\n' });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'pglite'))).toBe(false);
    expect(existsSync(path.join(dir, 'outbox'))).toBe(true);
    expect(existsSync(path.join(dir, '.jwt-secret'))).toBe(true);
  }, 120_000);

  it('deletes without asking with --yes', async () => {
    const dir = dataDir();
    const run = await runCli(['db-reset', '--yes'], { env: env(dir) });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'pglite'))).toBe(false);
  }, 120_000);

  it('refuses while another process owns DATA_DIR, deleting nothing', async () => {
    const dir = dataDir();
    const lock = lockDataDir(dir);
    try {
      const run = await runCli(['db-reset', '--yes'], { env: env(dir) });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `^db-reset failed: DATA_DIR .* in use by process ${process.pid} \\(.*\\): stop the server first\\n$`,
        ),
      );
      expect(existsSync(path.join(dir, 'pglite', 'PG_VERSION'))).toBe(true);
    } finally {
      lock.release();
    }
  }, 120_000);
});
