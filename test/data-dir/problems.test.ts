import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BASE_ENV,
  type Finished,
  nonEmptyLines,
  run,
  SERVER,
  server,
  TSX,
  workDir,
} from './process.js';

/**
 * An unusable DATA_DIR stops the real server with one line and exit 1, never a stack trace. As
 * root, permissions do not stop the process, so those cases run the server as `nobody`.
 */
const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

function expectRefused(result: Finished, problem: RegExp) {
  expect(result.code, result.stderr).toBe(1);
  const lines = nonEmptyLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^Invalid configuration: DATA_DIR: /);
  expect(lines[0]).toMatch(problem);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).not.toMatch(/"msg":"ready"/);
}

describe('the server with an unusable DATA_DIR', () => {
  it('refuses a DATA_DIR that is a file', async () => {
    const file = path.join(workDir(), 'data');
    writeFileSync(file, 'not a folder');
    expectRefused(await server({ DATA_DIR: file }).finished, /is a file, not a folder/);
  }, 180_000);

  it('refuses it in development too, where the generated secrets live there', async () => {
    const file = path.join(workDir(), 'data');
    writeFileSync(file, 'not a folder');
    const result = await server({
      DATA_DIR: file,
      NODE_ENV: 'development',
      JWT_SECRET: '',
      PASSWORD_PEPPER: '',
    }).finished;
    expectRefused(result, /is a file, not a folder/);
  }, 180_000);

  it('refuses an unreadable DATA_DIR', async () => {
    const dir = path.join(workDir(), 'data');
    mkdirSync(dir, { mode: 0o000 });
    chmodSync(dir, 0o000);
    const result = await server({ DATA_DIR: dir }, asRoot ? NOBODY : {}).finished;
    expectRefused(result, /permission denied/);
  }, 180_000);

  it('refuses a DATA_DIR it cannot write', async () => {
    const dir = path.join(workDir(), 'data');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    const result = await server({ DATA_DIR: dir }, asRoot ? NOBODY : {}).finished;
    expectRefused(result, /permission denied/);
  }, 180_000);

  it('refuses a DATA_DIR on a read-only mount', async () => {
    const dir = path.join(workDir(), 'data');
    mkdirSync(dir);
    // A mount namespace of the child's own (a user namespace too when not root) mounts a
    // read-only tmpfs over DATA_DIR for the server alone.
    const script =
      'mount -t tmpfs -o ro tmpfs "$DATA_DIR" && exec "$NODE" --import "$TSX" "$SERVER"';
    const result = await run('unshare', [asRoot ? '-m' : '-rm', '--', 'sh', '-c', script], {
      ...BASE_ENV,
      DATA_DIR: dir,
      NODE: process.execPath,
      TSX,
      SERVER,
    }).finished;
    expectRefused(result, /read-only file system/);
  }, 180_000);
});
