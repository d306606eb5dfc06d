import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../helpers/net.js';
import { onProcessExit } from './cleanup.js';

const run = promisify(execFile);

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && existsSync(path.join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin`);
  return path.join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, every server command runs as `postgres`. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', bin, ...args]]
    : [bin, args];
}

/**
 * A PostgreSQL instance of the test's own: initdb into a temporary folder, its own port, its unix
 * socket in that folder, trust authentication. Stopping and starting it disturbs nobody else.
 */
export class PrivatePostgres {
  private running = false;
  private readonly removeExitHandler: () => void;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {
    this.removeExitHandler = onProcessExit(() => {
      if (this.running) {
        try {
          const [cmd, args] = this.command('pg_ctl', [
            '-D',
            this.dataDir,
            '-m',
            'immediate',
            'stop',
          ]);
          execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
        } catch {
          // already gone
        }
      }
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  static async create(): Promise<PrivatePostgres> {
    const bin = postgresBin();
    const dir = mkdtempSync(path.join(tmpdir(), 'homefront-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const instance = new PrivatePostgres(dir, await freePort(), bin);
    const [cmd, args] = instance.command('initdb', [
      '-D',
      instance.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    await run(cmd, args, { timeout: 60_000 });
    return instance;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private command(tool: string, args: string[]): [string, string[]] {
    return asPostgres(path.join(this.bin, tool), args);
  }

  /** Starts the server; resolves once it accepts connections (`pg_ctl -w`). */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      // Durability of the test database itself is not under test; the app's transactions are.
      '-c fsync=off',
      '-c max_connections=60',
    ].join(' ');
    const [cmd, args] = this.command('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dir, 'postgres.log'),
      '-w',
      '-t',
      '30',
      '-o',
      options,
      'start',
    ]);
    await run(cmd, args, { timeout: 40_000 });
    this.running = true;
  }

  /** Stops the server (`fast`: terminates sessions, like an orderly restart), waiting for it. */
  async stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    const [cmd, args] = this.command('pg_ctl', [
      '-D',
      this.dataDir,
      '-m',
      mode,
      '-w',
      '-t',
      '30',
      'stop',
    ]);
    await run(cmd, args, { timeout: 40_000 });
    this.running = false;
  }

  /** The server's log so far (e.g. to look for "deadlock detected"). */
  log(): string {
    const file = path.join(this.dir, 'postgres.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** One query on a short-lived connection of the test's own (not the app's pool). */
  async query<T extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values: unknown[] = [],
  ): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'fault-test' });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Stops the server if it runs and removes its folder. */
  async destroy(): Promise<void> {
    try {
      if (this.running) await this.stop('immediate');
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      this.removeExitHandler();
    }
  }
}
