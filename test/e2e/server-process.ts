import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/net.js';

export interface ServerProcess {
  url: string;
  stop(): Promise<number | null>;
}

/**
 * Starts `src/server.ts` as production would (its own process and data folder) and waits for
 * ready. `env` may depend on the port the server gets (e.g. WEBAUTHN_ORIGINS naming it).
 */
export async function startServer(
  env: Record<string, string> | ((port: number) => Record<string, string>),
): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'homefront-e2e-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      PORT: String(port),
      DATA_DIR: dataDir,
      JWT_SECRET: 'e2e-secret-that-is-at-least-32-bytes-long!!',
      PASSWORD_PEPPER: 'e2e-pepper-that-is-at-least-32-bytes-long!!',
      BCRYPT_COST: '4',
      LOG_LEVEL: 'warn',
      ...(typeof env === 'function' ? env(port) : env),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode} before ready`);
    const ready = await fetch(`${url}/health/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('server not ready within 120 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
