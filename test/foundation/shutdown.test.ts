import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { roles } from '../../src/db/schema.js';
import { freePort } from '../helpers/net.js';
import { type Answer, buildAppWith, deferred, expectProblem, httpGet } from './support.js';

/** An app with routes that wait for the test, and a preClose step the test can hold open. */
async function appWithGates() {
  const slowEntered = deferred();
  const releaseSlow = deferred();
  const uploadStarted = deferred();
  const closingStarted = deferred();
  const finishClosing = deferred();
  const built = await buildAppWith((app) => {
    app.get('/test/slow', async () => {
      slowEntered.resolve();
      await releaseSlow.promise;
      // The database must still be open for a request that started before the shutdown.
      const rows = await app.db.select().from(roles);
      return { roles: rows.length };
    });
    app.post(
      '/test/upload',
      {
        onRequest: async () => uploadStarted.resolve(),
        schema: { body: Type.Object({ data: Type.String() }, { additionalProperties: false }) },
      },
      async (request) => ({ received: request.body.data.length }),
    );
    // Runs after the app's own preClose hook (which marks it as closing), before the server
    // stops listening: the test looks at the server in that window, then lets it go on.
    app.addHook('preClose', async () => {
      closingStarted.resolve();
      await finishClosing.promise;
    });
  });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = built.app.server.address() as AddressInfo;
  return {
    ...built,
    port,
    slowEntered,
    releaseSlow,
    uploadStarted,
    closingStarted,
    finishClosing,
  };
}

/** A request's answer, or the connection error that refused it. */
const attempt = (port: number, url: string): Promise<Answer | NodeJS.ErrnoException> =>
  httpGet(port, url).catch((error: NodeJS.ErrnoException) => error);

function expectRefused(outcome: Answer | NodeJS.ErrnoException) {
  if (outcome instanceof Error) {
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(outcome.code);
  } else {
    expectProblem(outcome, 503, 'service_unavailable');
  }
}

describe('graceful shutdown: app.close() with requests in flight (real HTTP)', () => {
  it('finishes the in-flight request, refuses new ones, then resolves', async () => {
    const t = await appWithGates();
    try {
      const inFlight = httpGet(t.port, '/test/slow');
      await t.slowEntered.promise;

      const closed = t.app.close();
      await t.closingStarted.promise;

      // Still listening, but closing: a new request is turned away as problem+json.
      const duringClose = await attempt(t.port, '/health/live');
      expect(duringClose).not.toBeInstanceOf(Error);
      const refused = duringClose as Answer;
      expectProblem(refused, 503, 'service_unavailable');
      expect(refused.headers.connection).toBe('close');
      expect(refused.headers['x-request-id']).toEqual(expect.any(String));
      // A refusal is an answer like any other: the security headers are on it too.
      expect(refused.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'cache-control': 'no-store',
      });

      // Once the listener is closed, a new connection is refused outright.
      t.finishClosing.resolve();
      expectRefused(await attempt(t.port, '/health/live'));

      t.releaseSlow.resolve();
      const finished = await inFlight;
      expect(finished.statusCode).toBe(200);
      expect(JSON.parse(finished.body)).toEqual({ roles: expect.any(Number) });
      expect(JSON.parse(finished.body).roles).toBeGreaterThanOrEqual(3);

      await expect(closed).resolves.toBeUndefined();
    } finally {
      t.finishClosing.resolve();
      t.releaseSlow.resolve();
      await t.close();
    }
  });

  it('finishes a request whose body was half sent when the shutdown began', async () => {
    const t = await appWithGates();
    try {
      const body = JSON.stringify({ data: 'x'.repeat(10_000) });
      const socket = connect(t.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise<string>((resolve, reject) => {
        socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('error', reject);
      });
      socket.write(
        'POST /test/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5_000)}`,
      );
      await t.uploadStarted.promise;

      const closed = t.app.close();
      await t.closingStarted.promise;
      t.finishClosing.resolve();

      socket.end(body.slice(5_000));
      const raw = await ended;
      expect(raw).toMatch(/^HTTP\/1\.1 200 /);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ received: 10_000 });

      await expect(closed).resolves.toBeUndefined();
    } finally {
      t.finishClosing.resolve();
      await t.close();
    }
  });
});

describe('graceful shutdown: the server process', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

  it('serves, becomes ready, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const cwd = mkdtempSync(path.join(tmpdir(), 'homefront-process-'));
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'src/server.ts')], {
      cwd,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: path.join(cwd, 'data'),
        JWT_SECRET: 'process-test-secret-that-is-at-least-32-bytes',
        PASSWORD_PEPPER: 'process-test-pepper-that-is-at-least-32-bytes',
        BCRYPT_COST: '4',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 170_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    let hasExited = false;
    void exited.then(() => {
      hasExited = true;
    });

    try {
      // Bounded readiness wait: PGlite and the migrations take a few seconds in the child.
      let ready = false;
      for (let tries = 0; tries < 1_500 && !ready && !hasExited; tries++) {
        const outcome = await attempt(port, '/health/ready');
        ready = !(outcome instanceof Error) && outcome.statusCode === 200;
        if (!ready) await delay(100);
      }
      expect(ready, output).toBe(true);

      const live = await httpGet(port, '/health/live');
      expect(live.statusCode).toBe(200);

      child.kill('SIGTERM');
      const { code, signal } = await exited;
      expect({ code, signal }, output).toEqual({ code: 0, signal: null });
      expect(output).toContain('shutdown complete');
    } finally {
      if (!hasExited) child.kill('SIGKILL');
    }
  }, 180_000);
});
