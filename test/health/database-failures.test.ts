import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { postgresDatabase } from '../../src/db/client.js';
import { ManualClock } from '../../src/lib/clock.js';
import { expectProblem } from '../foundation/support.js';
import { testConfig, testEnv } from '../helpers/config.js';
import { onPostgres } from '../helpers/databases.js';
import { capturingLogger } from '../helpers/logs.js';
import { pollUntil } from '../helpers/net.js';
import { collectRoutes, type RegisteredRoute } from '../helpers/routes.js';
import { STRONG_PASSWORD } from '../helpers/users.js';
import { CONTRACT, isOpen } from '../protection/contract.js';

/**
 * A misconfigured DATABASE_URL against a real PostgreSQL (issue 12, finding 6): a database that
 * does not exist, a role that does not exist. Every route that needs the database answers 503
 * service_unavailable with Retry-After, as for a network failure, never 500; the startup log says
 * why in one line; `npm run db:migrate` prints the cause and exits non-zero. (PGlite has no URL to
 * get wrong: these run on PostgreSQL only.)
 */

const url = process.env.TEST_DATABASE_URL;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const suffix = randomBytes(4).toString('hex');

function variant(change: (target: URL) => void): string {
  const target = new URL(url ?? 'postgres://postgres@127.0.0.1:5432/test');
  change(target);
  return target.toString();
}

const cases = [
  {
    label: 'a database that does not exist',
    url: variant((target) => {
      target.pathname = `/homefront_missing_${suffix}`;
    }),
    cause: new RegExp(`database "homefront_missing_${suffix}" does not exist \\(SQLSTATE 3D000\\)`),
  },
  {
    label: 'a role that does not exist',
    url: variant((target) => {
      target.username = `homefront_nobody_${suffix}`;
      target.password = 'not-the-password';
    }),
    cause: new RegExp(`role "homefront_nobody_${suffix}" does not exist \\(SQLSTATE 28000\\)`),
  },
];

/** Routes that never touch the database. */
const WITHOUT_DATABASE = new Set([
  'GET /health/live',
  'GET /metrics',
  'GET /openapi.json',
  'GET /verify-email',
  'GET /reset-password',
  'GET /forgot-password',
  'GET /confirm-email-change',
  'GET /revert-email-change',
]);

/** The account pages' forms: their 503 is a page (text/html), not problem+json. */
const PAGE_FORMS: Record<string, string> = {
  'POST /verify-email': `token=${'v'.repeat(43)}`,
  'POST /reset-password': `token=${'t'.repeat(43)}&newPassword=${encodeURIComponent(STRONG_PASSWORD)}&confirmPassword=${encodeURIComponent(STRONG_PASSWORD)}`,
  'POST /forgot-password': `email=someone-${suffix}%40example.com`,
  'POST /confirm-email-change': `token=${'c'.repeat(43)}`,
  'POST /revert-email-change': `token=${'r'.repeat(43)}`,
};

/** A valid body for each public route that has one: validation must pass to reach the database. */
const PUBLIC_BODIES: Record<string, object | undefined> = {
  'GET /health/ready': undefined,
  'POST /auth/register': {
    email: `someone-${suffix}@example.com`,
    password: STRONG_PASSWORD,
    fullName: 'Some One',
    role: 'homeowner',
  },
  'POST /auth/verify-email': { token: 'v'.repeat(43) },
  'POST /auth/resend-verification': { email: `someone-${suffix}@example.com` },
  'POST /auth/login': { email: `someone-${suffix}@example.com`, password: STRONG_PASSWORD },
  'POST /auth/refresh': { refresh_token: 'r'.repeat(43) },
  'POST /auth/forgot-password': { email: `someone-${suffix}@example.com` },
  'POST /auth/reset-password': { token: 't'.repeat(43), newPassword: STRONG_PASSWORD },
  'POST /users/me/email/confirm': { token: 'c'.repeat(43) },
  'POST /users/me/email/revert': { token: 'r'.repeat(43) },
  'POST /auth/mfa/verify': { challenge: 'm'.repeat(43), code: '123456' },
  'POST /auth/passkey/options': undefined,
  'POST /auth/passkey/verify': {
    challengeId: randomUUID(),
    credential: {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' },
    },
  },
};

describe.skipIf(!onPostgres).each(cases)(
  'PostgreSQL reached with $label',
  ({ url: badUrl, cause }) => {
    let app: App;
    let registered: RegisteredRoute[];
    let logs: string[];
    beforeAll(async () => {
      const config = testConfig();
      const captured = capturingLogger();
      logs = captured.lines;
      const database = postgresDatabase(config, captured.logger, badUrl);
      ({ built: app, routes: registered } = await collectRoutes(() =>
        buildApp(config, { database, clock: new ManualClock(), logger: captured.logger }),
      ));
      // Ready to serve as the server is after listen; startup keeps retrying in the background.
      await app.ready();
    });
    afterAll(() => app.close());

    it('the startup log names the cause in one line, and liveness stays 200', async () => {
      const line = await pollUntil(
        async () => logs.find((entry) => entry.includes('startup against the database failed')),
        20_000,
        'the startup failure line',
      );
      expect(line.trim().split('\n')).toHaveLength(1);
      const { msg, level } = JSON.parse(line);
      expect(level).toBe(50);
      expect(msg).toMatch(cause);
      expect(msg).toMatch(/DATABASE_URL/);
      expect(line).not.toContain('not-the-password');
      expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    });

    it('every route that needs the database answers 503 service_unavailable with Retry-After', async () => {
      const token = await app.accessTokens.sign({ userId: randomUUID(), sessionId: randomUUID() });
      const routes = registered.filter(
        (route) =>
          !WITHOUT_DATABASE.has(`${route.method} ${route.url}`) && !route.url.startsWith('/docs'),
      );
      expect(routes.length).toBeGreaterThan(30);
      for (const route of routes) {
        const key = `${route.method} ${route.url}`;
        if (key in PAGE_FORMS) {
          const page = await app.inject({
            method: 'POST',
            url: route.url,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: PAGE_FORMS[key],
          });
          expect(page.statusCode, `${key}: ${page.body}`).toBe(503);
          expect(page.headers['content-type'], key).toMatch(/^text\/html/);
          expect(page.headers['retry-after'], key).toBe('1');
          expect(page.body, key).not.toMatch(/SQLSTATE|does not exist|homefront_/);
          continue;
        }
        const isPublic = isOpen(CONTRACT[route.key]?.access ?? 'signed-in');
        if (isPublic && !(key in PUBLIC_BODIES)) {
          throw new Error(`${key} is public: give it a valid body in PUBLIC_BODIES`);
        }
        const res = await app.inject({
          method: route.method as 'GET',
          url: route.url.replace(':id', randomUUID()).replace(':role', 'homeowner'),
          ...(isPublic ? {} : { headers: { authorization: `Bearer ${token}` } }),
          ...(isPublic && PUBLIC_BODIES[key] ? { payload: PUBLIC_BODIES[key] } : {}),
        });
        expect(res.statusCode, `${key}: ${res.body}`).toBe(503);
        expectProblem(res, 503, 'service_unavailable');
        expect(res.headers['retry-after'], key).toBe('1');
        expect(res.body, key).not.toMatch(/SQLSTATE|does not exist|homefront_/);
      }
      // Each of those was logged as the outage it is: one warn line with the cause, no 500 error.
      const errors = logs.filter(
        (entry) => entry.includes('"level":50') && entry.includes('request'),
      );
      expect(errors).toEqual([]);
      const outages = logs
        .map((entry) => JSON.parse(entry) as { msg: string; cause?: string })
        .filter((entry) => entry.msg === 'database unavailable');
      expect(outages.length).toBeGreaterThanOrEqual(routes.length - 1);
      for (const outage of outages) expect(outage.cause).toMatch(cause);
    });

    it('npm run db:migrate prints the cause in one line and exits non-zero', async () => {
      const child = spawn(TSX, [path.join(ROOT, 'src', 'db', 'migrate-cli.ts')], {
        cwd: ROOT,
        env: { ...testEnv({ DATABASE_URL: badUrl }), PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^migration failed: /);
      expect(lines[0]).toMatch(cause);
      expect(stderr).not.toContain('not-the-password');
    });
  },
);
