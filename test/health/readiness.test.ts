import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { type Database, pgliteDatabase, postgresDatabase } from '../../src/db/client.js';
import { users } from '../../src/db/schema.js';
import { ManualClock } from '../../src/lib/clock.js';
import { VERSION } from '../../src/lib/version.js';
import { deferred, expectProblem } from '../foundation/support.js';
import { freshDatabase } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import { onPostgres, postgresDatabaseUrl } from '../helpers/databases.js';
import { capturingLogger } from '../helpers/logs.js';
import { pollUntil } from '../helpers/net.js';

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
      expect(live.json()).toEqual({ status: 'ok', version: VERSION });

      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expectProblem(ready, 503, 'service_unavailable');
      expect(ready.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres:/);
    } finally {
      // Closing stops the startup loop, which retries the migration until then.
      await app.close();
    }
  });

  it.skipIf(!onPostgres)(
    'becomes ready without a restart once PostgreSQL answers (start with the database down)',
    async () => {
      const clone = await postgresDatabaseUrl();
      const upstream = new URL(clone.url);

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
      const through = new URL(clone.url);
      through.hostname = '127.0.0.1';
      through.port = String(port);

      const app = await appOn(postgresDatabase(testConfig(), quietLogger(), through.toString()));
      try {
        expectProblem(await app.inject({ url: '/health/ready' }), 503, 'service_unavailable');
        expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);

        open = true;
        await app.untilStarted();
        const ready = await app.inject({ url: '/health/ready' });
        expect(ready.statusCode).toBe(200);
        expect(ready.json()).toEqual({ status: 'ok', version: VERSION });
      } finally {
        await app.close();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => gate.close(() => resolve()));
        await clone.drop();
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

      // An operator migrates from outside (npm run db:migrate): still not ready while the app's
      // own startup (its migration step, then its startup tasks) has not finished.
      await real.migrate();
      const migrated = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(expectProblem(migrated, 503, 'service_unavailable').detail).toMatch(/start/i);

      startupMayMigrate.resolve();
      await app.untilStarted();
      const after = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(after.statusCode).toBe(200);
      expect(after.json()).toEqual({ status: 'ok', version: VERSION });
    } finally {
      startupMayMigrate.resolve();
      await app.untilStarted();
      await app.close();
    }
  }, 120_000);
});

describe('readiness waits for every startup task, not only the migrations', () => {
  it('answers 503 while a startup task runs, 200 once it has finished', async () => {
    const config = testConfig();
    const logger = quietLogger();
    const fresh = await freshDatabase(config, logger);
    const app = await buildApp(config, {
      database: fresh.database,
      clock: new ManualClock(),
      logger,
    });
    const task = deferred();
    let taskRan = false;
    app.onDatabaseReady(async () => {
      taskRan = true;
      await task.promise;
    });
    await app.ready();
    try {
      await pollUntil(async () => taskRan || undefined, 20_000, 'the startup task to begin');
      // The database answers and no migration is pending, yet the task has not finished.
      expect(await fresh.database.pendingMigrations()).toBe(0);
      const during = await app.inject({ url: '/health/ready' });
      expect(expectProblem(during, 503, 'service_unavailable').detail).toMatch(/start/i);
      expect(during.headers['retry-after']).toBe('1');

      task.resolve();
      await app.untilStarted();
      expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      task.resolve();
      await app.close();
      await fresh.drop();
    }
  });

  it('whenever it answers 200, the bootstrap admin exists (polled from the first moment)', async () => {
    const adminEmail = `first-admin-${randomBytes(4).toString('hex')}@example.com`;
    // A real cost, so that creating the admin takes a noticeable while after the migrations.
    const config = testConfig({
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: 'a long bootstrap admin passphrase',
      BCRYPT_COST: '10',
    });
    const logger = quietLogger();
    const fresh = await freshDatabase(config, logger);
    const app = await buildApp(config, {
      database: fresh.database,
      clock: new ManualClock(),
      logger,
    });
    await app.ready();
    try {
      // Asked again and again, letting I/O through between answers (bcrypt completes on the thread
      // pool), until the first 200; bounded in time.
      const deadline = Date.now() + 60_000;
      let answers = 0;
      for (;;) {
        const ready = await app.inject({ url: '/health/ready' });
        answers++;
        if (ready.statusCode === 200) break;
        expect(ready.statusCode).toBe(503);
        if (Date.now() > deadline) throw new Error(`not ready after ${answers} answers`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [admin] = await app.db.select().from(users).where(eq(users.email, adminEmail));
      expect(admin, `ready after ${answers} answers, but no admin`).toBeDefined();
      expect(admin?.emailVerified).toBe(true);
    } finally {
      await app.untilStarted();
      await app.close();
      await fresh.drop();
    }
  });
});
