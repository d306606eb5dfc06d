import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { freePort, within } from '../../helpers/net.js';
import { onProcessExit } from './cleanup.js';

/**
 * A redis-server of the test's own, a child process on its own loopback port, no persistence.
 * It can be killed and started again on the same port.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly removeExitHandler: () => void;

  private constructor(readonly port: number) {
    this.removeExitHandler = onProcessExit(() => this.child?.kill('SIGKILL'));
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Spawns the server and resolves when it logs that it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        tmpdir(),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready: ${output}`)),
      );
    });
    await within(ready, 15_000, 'redis-server did not become ready');
  }

  /** Kills the server (SIGKILL by default: no goodbye to its clients) and waits for its exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await within(this.exited, 10_000, 'redis-server did not exit');
  }

  async destroy(): Promise<void> {
    await this.kill();
    this.removeExitHandler();
  }
}
