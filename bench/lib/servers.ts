import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, rssMb, type Server, start, waitUntilOk } from './children.js';

/** Secrets of this bench run only (≥ 32 bytes each). */
export const SECRETS = {
  JWT_SECRET: randomBytes(48).toString('base64url'),
  PASSWORD_PEPPER: randomBytes(48).toString('base64url'),
  MFA_ENCRYPTION_KEY: randomBytes(48).toString('base64url'),
};

const ROOT = process.cwd();
let scratchDir: string | undefined;
/**
 * The run's scratch folder, made on first use: children run in it (so that no `.env` of the
 * checkout leaks into them), keep their DATA_DIR and profiles there, and log to its logs/.
 */
export function scratch(): string {
  if (!scratchDir) {
    scratchDir = mkdtempSync(path.join(os.tmpdir(), 'homefront-bench-'));
    mkdirSync(path.join(scratchDir, 'logs'));
  }
  return scratchDir;
}
/** The children's stdout and stderr, kept when the run fails. */
export const logsDir = () => path.join(scratch(), 'logs');
export function removeScratch() {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = undefined;
}

/**
 * The production build as it would run: NODE_ENV=production, bcrypt cost 12, warn-level logs.
 * Only the rate limits are raised (a 1 s window with a million requests) so that the bench
 * measures the server rather than the limiter's 429s; the limiter still runs on every request.
 * Access tokens live an hour so that one login lasts the whole run. `extra` adds to it or
 * overrides it (DATABASE_URL, another DATA_DIR).
 */
export function appEnv(
  port: number,
  extra: Record<string, string>,
): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '12',
    ...SECRETS,
    ACCESS_TOKEN_TTL: '3600',
    WEB_CONCURRENCY: '1',
    RATE_LIMIT_WINDOW: '1',
    RATE_LIMIT_GLOBAL_MAX: '1000000',
    RATE_LIMIT_AUTH_MAX: '100000',
    RATE_LIMIT_LOGIN_FAILURES: '10000',
    RATE_LIMIT_MAILS_PER_EMAIL: '10000',
    DATA_DIR: path.join(scratch(), 'data'),
    ...extra,
  };
}

export interface Started {
  server: Server;
  readyMs: number;
  /** RSS a second after ready, before any load. */
  idleRssMb: number;
}

async function launch(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
  port: number,
  cwd: string,
  node?: string,
): Promise<Started> {
  const since = performance.now();
  const server = start(name, args, env, port, cwd, logsDir(), node);
  const readyMs = await waitUntilOk(server, '/health/ready', since);
  await sleep(1_000);
  return { server, readyMs, idleRssMb: rssMb(server.pid) ?? 0 };
}

/**
 * `node dist/server.js`; databaseUrl undefined means PGlite under `extra.DATA_DIR`. `node` is the
 * Node.js binary to run it with (the bench's own by default).
 */
export async function startApp(
  name: string,
  databaseUrl: string | undefined,
  extra: Record<string, string> = {},
  nodeArgs: string[] = [],
  node?: string,
): Promise<Started> {
  const port = await freePort();
  const env = appEnv(port, { ...(databaseUrl && { DATABASE_URL: databaseUrl }), ...extra });
  return launch(name, [...nodeArgs, path.join(ROOT, 'dist/server.js')], env, port, scratch(), node);
}

/** A bench-only server (floor-server.ts, headers-server.ts), run through tsx like the bench. */
export async function startBenchServer(
  name: string,
  file: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  node?: string,
): Promise<Started> {
  const port = await freePort();
  return launch(
    name,
    [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'bench', file)],
    {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      BENCH_ROOT: ROOT,
      PORT: String(port),
      ...env,
    },
    port,
    ROOT,
    node,
  );
}
