import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPostgresDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/net.js';

export interface ServerProcess {
  url: string;
  stop(): Promise<number | null>;
}

/** The browser run's database: `'PostgreSQL'` when TEST_DATABASE_URL is set, else PGlite. */
export const E2E_DATABASE = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite';

/**
 * A fresh, empty PostgreSQL database of the server's own on TEST_DATABASE_URL's server (the
 * server migrates it as it starts, as in production), or none: the embedded PGlite in DATA_DIR.
 */
async function serverDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) return { env: {}, drop: async () => {} };
  const database = await createPostgresDatabase(base, 'homefront_e2e');
  return { env: { DATABASE_URL: database.url }, drop: database.drop };
}

/**
 * Starts `src/server.ts` as production would (its own process, data folder and database) and
 * waits for ready. `env` may depend on the port the server gets (e.g. WEBAUTHN_ORIGINS naming it).
 */
export async function startServer(
  env: Record<string, string> | ((port: number) => Record<string, string>),
): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'homefront-e2e-'));
  const database = await serverDatabase();
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
      ...database.env,
      ...(typeof env === 'function' ? env(port) : env),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const fail = async (message: string): Promise<never> => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
    throw new Error(message);
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) await fail(`server exited with ${child.exitCode} before ready`);
    const ready = await fetch(`${url}/health/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) await fail('server not ready within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      await database.drop();
      return code;
    },
  };
}
