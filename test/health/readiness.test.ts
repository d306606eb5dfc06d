import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { type Database, pgliteDatabase, postgresDatabase } from '../../src/db/client.js';
import { ManualClock } from '../../src/lib/clock.js';
import { deferred, expectProblem } from '../foundation/support.js';
import { testConfig } from '../helpers/config.js';
import { capturingLogger } from '../helpers/logs.js';

/** Routes with their own logLevel log even under a silent logger; keep their lines in memory. */
const quietLogger = () => capturingLogger().logger;

/** Builds the real app on a given database and makes it ready, without waiting for startup. */
async function appOn(database: Database): Promise<App> {
  const config = testConfig();
  const app = await buildApp(config, { database, clock: new ManualClock(), logger: quietLogger() });
  await app.ready();
  return app;
}

describe('readiness when the database is unreachable', () => {
  it('answers 503 service_unavailable while liveness stays 200', async () => {
    // Nothing listens on port 1: every connection is refused at once.
    const config = testConfig();
    const database = postgresDatabase(
      config,
      quietLogger(),
      'postgres://postgres@127.0.0.1:1/nothing',
    );
    const app = await appOn(database);
    try {
      const live = await app.inject({ method: 'GET', url: '/health/live' });
      expect(live.statusCode).toBe(200);
      expect(live.json()).toEqual({ status: 'ok' });

      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expectProblem(ready, 503, 'service_unavailable');
      expect(ready.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres:/);
    } finally {
      // Closing stops the startup loop, which retries the migration until then.
      await app.close();
    }
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'becomes ready without a restart once PostgreSQL answers (start with the database down)',
    async () => {
      const url = process.env.TEST_DATABASE_URL as string;
      const template = inject('pgTemplate');
      const name = `homefront_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create database ${name} template ${template}`);
      const upstream = new URL(url);

      // A TCP gate in front of PostgreSQL: it hangs up on every connection until opened.
      let open = false;
      const sockets = new Set<Socket>();
      const gate: Server = createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        if (!open) {
          client.destroy();
          return;
        }
        const server = tcpConnect(Number(upstream.port || 5432), upstream.hostname);
        sockets.add(server);
        server.on('close', () => sockets.delete(server));
        client.pipe(server).pipe(client);
        client.on('error', () => server.destroy());
        server.on('error', () => client.destroy());
      });
      const listening = deferred();
      gate.listen(0, '127.0.0.1', () => listening.resolve());
      await listening.promise;
      const { port } = gate.address() as { port: number };
      const through = new URL(url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      through.pathname = `/${name}`;

      const app = await appOn(postgresDatabase(testConfig(), quietLogger(), through.toString()));
      try {
        expectProblem(await app.inject({ url: '/health/ready' }), 503, 'service_unavailable');
        expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);

        open = true;
        await app.untilStarted();
        const ready = await app.inject({ url: '/health/ready' });
        expect(ready.statusCode).toBe(200);
        expect(ready.json()).toEqual({ status: 'ok' });
      } finally {
        await app.close();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => gate.close(() => resolve()));
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    },
  );
});

describe('readiness while migrations are pending', () => {
  it('answers 503 before migrating and 200 after, without a restart', async () => {
    const real = await pgliteDatabase(await PGlite.create());
    // The app's own start-up migration waits for the test, so the pending state is observable.
    const startupMayMigrate = deferred();
    const database: Database = {
      ...real,
      async migrate() {
        await startupMayMigrate.promise;
        await real.migrate();
      },
    };
    const app = await appOn(database);
    try {
      expect(await real.pendingMigrations()).toBeGreaterThan(0);
      const before = await app.inject({ method: 'GET', url: '/health/ready' });
      const problem = expectProblem(before, 503, 'service_unavailable');
      expect(problem.detail).toMatch(/migration/i);
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

      // An operator migrates from outside (npm run db:migrate); the running app notices.
      await real.migrate();
      const after = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(after.statusCode).toBe(200);
      expect(after.json()).toEqual({ status: 'ok' });
    } finally {
      startupMayMigrate.resolve();
      await app.untilStarted();
      await app.close();
    }
  }, 120_000);
});
