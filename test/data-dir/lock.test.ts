import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir.js';
import { freePort, pollUntil } from '../helpers/net.js';
import { cli, nonEmptyLines, type Running, server, workDir } from './process.js';

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('the DATA_DIR lock, in process', () => {
  it('is taken and released, leaving no lock file behind', () => {
    const dir = path.join(workDir(), 'data');
    const lock = lockDataDir(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('is refused while a live process holds it, naming that pid', () => {
    const dir = workDir();
    writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid}\n`);
    const error = (() => {
      try {
        lockDataDir(dir);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).pid).toBe(process.ppid);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });

  it('is taken over when the pid in the lock file is gone (a killed server)', () => {
    const dir = workDir();
    const gone = deadPid();
    writeFileSync(path.join(dir, LOCK_FILE), `${gone}\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });
});

describe('a second process on the DATA_DIR of a running server', () => {
  const dataDir = path.join(workDir(), 'data');
  let first: Running | undefined;
  afterAll(async () => {
    first?.child.kill('SIGTERM');
    await first?.finished;
  });

  async function running(): Promise<Running> {
    if (first) return first;
    const port = String(await freePort());
    first = server({ DATA_DIR: dataDir, PORT: port });
    const started = first;
    await pollUntil(
      async () => (/"msg":"ready"/.test(started.output()) ? true : undefined),
      120_000,
      'the first server logging ready',
      100,
    );
    return started;
  }

  it('the first one logs ready with the docs URL and where mail goes', async () => {
    const started = await running();
    const ready = started
      .output()
      .split('\n')
      .map((line) => (line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : {}))
      .find((line) => line.msg === 'ready');
    expect(ready?.docs).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/docs$/);
    expect(ready?.mail).toBe(
      `outbox folder ${path.join(dataDir, 'outbox')} (npm run mail:last shows the newest)`,
    );
  }, 240_000);

  it('a second server is refused in one line naming the holder and what to do', async () => {
    const { child } = await running();
    const second = await server({ DATA_DIR: dataDir, PORT: String(await freePort()) }).finished;
    expect(second.code).toBe(1);
    const lines = nonEmptyLines(second.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`DATA_DIR ${dataDir} is in use by process ${child.pid}`);
    expect(lines[0]).toMatch(/stop it first, or use another DATA_DIR/);
    expect(second.stdout).not.toMatch(/"msg":"ready"/);
  }, 240_000);

  it('create-admin is refused and told to stop the server or use ADMIN_EMAIL', async () => {
    const { child } = await running();
    const result = await cli(['create-admin', '--email', 'ops@example.com'], {
      DATA_DIR: dataDir,
    }).finished;
    expect(result.code).toBe(1);
    const lines = nonEmptyLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`in use by process ${child.pid}`);
    expect(lines[0]).toMatch(/stop the server .*ADMIN_EMAIL and ADMIN_PASSWORD/);
    expect(result.stdout).toBe('');
  }, 240_000);

  it('the lock goes when the server stops', async () => {
    const started = await running();
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(true);
    started.child.kill('SIGTERM');
    expect((await started.finished).code).toBe(0);
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
    first = undefined;
  }, 240_000);
});
