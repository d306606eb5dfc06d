import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, pollUntil, within } from '../../helpers/net.js';
import { onProcessExit } from './cleanup.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER = path.join(ROOT, 'src', 'server.ts');
const TSX = pathToFileURL(createRequire(path.join(ROOT, 'package.json')).resolve('tsx')).href;

export const JWT_SECRET = 'fault-tests-jwt-secret-that-is-at-least-32-bytes';
export const PASSWORD_PEPPER = 'fault-tests-pepper-that-is-at-least-32-bytes-long';
export const BCRYPT_COST = 4;

export interface AppOptions {
  databaseUrl: string;
  /** Overrides and additions (e.g. SMTP_URL, REDIS_URL, RATE_LIMIT_LOGIN_FAILURES). */
  env?: Record<string, string>;
  /** Reuse a port (a restart on the same address); a free one otherwise. */
  port?: number;
  /** Reuse a data folder (a restart); a fresh temporary one otherwise. */
  dataDir?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The real server, `node --import tsx src/server.ts`, as a child process with its own port and
 * data folder. It runs with the temporary folder as its working directory, so a developer's
 * `.env` or `./data` never leaks in; the environment is built from scratch.
 */
export class AppProcess {
  readonly exited: Promise<Exit>;
  private readonly lines: string[] = [];
  private readonly removeExitHandler: () => void;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(line);
        if (this.lines.length > 300) this.lines.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.removeExitHandler = onProcessExit(() => {
      child.kill('SIGKILL');
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    });
  }

  /** Spawns the server; it is not necessarily listening yet (see waitLive / waitReady). */
  static async spawn(options: AppOptions): Promise<AppProcess> {
    const port = options.port ?? (await freePort());
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'homefront-fault-app-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: dataDir,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: options.databaseUrl,
      JWT_SECRET,
      PASSWORD_PEPPER,
      BCRYPT_COST: String(BCRYPT_COST),
      LOG_LEVEL: 'warn',
      PUBLIC_APP_URL: 'http://app.test',
      WEB_CONCURRENCY: '1',
      RATE_LIMIT_GLOBAL_MAX: '1000000',
      RATE_LIMIT_AUTH_MAX: '100000',
      RATE_LIMIT_LOGIN_FAILURES: '10000',
      RATE_LIMIT_MAILS_PER_EMAIL: '10000',
      ...options.env,
    };
    const child = spawn(process.execPath, ['--import', TSX, SERVER], {
      cwd: dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(child, port, dataDir, ownsDataDir);
  }

  /** Spawns the server and waits until it is ready (database answering, migrations applied). */
  static async start(options: AppOptions): Promise<AppProcess> {
    const app = await AppProcess.spawn(options);
    try {
      await app.waitReady();
    } catch (error) {
      await app.destroy();
      throw error;
    }
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the app process has no pid');
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process wrote (JSON logs at LOG_LEVEL=warn and anything on stderr). */
  logs(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  private async waitFor(route: string, timeoutMs: number): Promise<void> {
    try {
      await pollUntil(
        async () => {
          if (!this.alive) {
            const exit = await this.exited;
            throw new Error(`the app exited (${exit.code ?? exit.signal}) while starting`);
          }
          const response = await fetch(`${this.url}${route}`, {
            signal: AbortSignal.timeout(2_000),
          });
          await response.arrayBuffer();
          return response.status === 200 ? true : undefined;
        },
        timeoutMs,
        `GET ${route} answering 200`,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- app output ---\n${this.logs()}`);
    }
  }

  /** Liveness: the process listens and serves. */
  waitLive(timeoutMs = 45_000): Promise<void> {
    return this.waitFor('/health/live', timeoutMs);
  }

  /** Readiness: the database answers and every migration is applied. */
  waitReady(timeoutMs = 45_000): Promise<void> {
    return this.waitFor('/health/ready', timeoutMs);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with the exit. */
  async stop(graceMs = 12_000): Promise<Exit> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      try {
        await within(this.exited, graceMs, 'the app did not exit on SIGTERM');
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    return this.exited;
  }

  /** Stops the process (if still running) and removes its data folder unless it was given one. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    this.removeExitHandler();
  }
}
