import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type Database, pgliteDatabase, postgresDatabase } from '../../src/db/client.js';
import { testConfig, testEnv } from '../helpers/config.js';
import { onPostgres, postgresDatabaseUrl } from '../helpers/databases.js';
import { silentLogger } from '../helpers/logs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(ROOT, 'src', 'cli.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where the CLI keeps its data for one test: a PostgreSQL database of its own (DATABASE_URL)
 * when the run has one, else an embedded database under a fresh DATA_DIR. `open` gives the
 * same database to an in-process app afterwards, to check what the CLI did.
 */
export interface CliStore {
  env: Record<string, string>;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export async function cliStore(): Promise<CliStore> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'homefront-cli-'));
  if (onPostgres) {
    const { url, drop } = await postgresDatabaseUrl();
    return {
      env: { DATA_DIR: dataDir, DATABASE_URL: url },
      open: async () => postgresDatabase(testConfig(), silentLogger(), url),
      drop,
    };
  }
  return {
    env: { DATA_DIR: dataDir },
    open: async () => pgliteDatabase(await PGlite.create(path.join(dataDir, 'pglite'))),
    drop: async () => {},
  };
}

/**
 * Runs `tsx src/cli.ts <args>` as an operator would, with the test environment (NODE_ENV=test,
 * the test secrets and pepper, BCRYPT_COST=4) and `stdin` typed in. It runs in an empty working
 * directory so that no `.env` file of the checkout leaks in.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const env = Object.fromEntries(
    Object.entries({
      ...testEnv({ LOG_LEVEL: 'warn', ...options.env }),
      PATH: process.env.PATH,
      HOME: process.env.HOME,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], {
      cwd: mkdtempSync(path.join(tmpdir(), 'homefront-cwd-')),
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
