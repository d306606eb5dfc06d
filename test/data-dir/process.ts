import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVER = path.join(ROOT, 'src/server.ts');
export const CLI = path.join(ROOT, 'src/cli.ts');
// tsx by absolute URL, so the child can run in an empty folder where no stray .env is read.
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A fresh folder others may traverse (a process run as another user reaches DATA_DIR inside). */
export function workDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'homefront-datadir-'));
  chmodSync(dir, 0o755);
  return dir;
}

export const BASE_ENV = {
  NODE_ENV: 'test',
  JWT_SECRET: 'data-dir-test-secret-at-least-32-bytes-long',
  PASSWORD_PEPPER: 'data-dir-test-pepper-at-least-32-bytes-long',
  BCRYPT_COST: '4',
  LOG_LEVEL: 'info',
};

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  output(): string;
  finished: Promise<Finished>;
}

/** Spawns a command with only the given environment (plus PATH), collecting its output. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; uid?: number; gid?: number } = {},
): Running {
  const child = spawn(command, args, {
    cwd: options.cwd ?? workDir(),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    // Bounded, but generous: a loaded CI machine can take a while to start tsx.
    timeout: 120_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const finished = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, output: () => stdout + stderr, finished };
}

export const server = (env: Record<string, string>, options?: { uid?: number; gid?: number }) =>
  run(process.execPath, ['--import', TSX, SERVER], { ...BASE_ENV, ...env }, options);

export const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', TSX, CLI, ...args], { ...BASE_ENV, ...env });

export const nonEmptyLines = (text: string) => text.split('\n').filter((line) => line.trim());
