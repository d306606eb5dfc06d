import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolePermissions } from '../../src/db/schema.js';
import type { AuthRequirement } from '../../src/plugins/auth.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { createTestAppWithRoutes, type RegisteredRoute } from './routes.js';
import {
  ALL_PERMISSIONS,
  expectUnauthorized,
  grants,
  type RoleName,
  SEEDED_PERMISSIONS,
  send,
} from './support.js';

/**
 * API5 (broken function-level authorization): every registered route against every kind of
 * caller. The routes come from the app itself, so a route added later is in the matrix without
 * anyone touching this file, and one added without a guard fails the public allowlist below.
 */

const { t, routes } = await createTestAppWithRoutes({ noSmtp: true });
afterAll(() => t.close());

/**
 * The routes that need no token: the operations endpoints, the docs, API.md's public /auth/* and
 * the HTML pages the mail links open (they take the same one-time tokens as /auth/*).
 */
const PUBLIC_ROUTES = [
  'GET /forgot-password',
  'GET /reset-password',
  'GET /verify-email',
  'POST /forgot-password',
  'POST /reset-password',
  'POST /verify-email',
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'GET /openapi.json',
  'POST /auth/forgot-password',
  'POST /auth/login',
  'POST /auth/refresh',
  'POST /auth/register',
  'POST /auth/resend-verification',
  'POST /auth/reset-password',
  'POST /auth/verify-email',
];
const isDocs = (route: RegisteredRoute) => /^\/docs(\/|$)/.test(route.url);

/** Public routes that check credentials: 401/403 there is about the password or refresh token. */
const CREDENTIAL_ROUTES = ['POST /auth/login', 'POST /auth/refresh'];

/** Requirements API.md states, checked for each of these routes that is registered. */
const CONTRACT: Record<string, AuthRequirement> = {
  'POST /auth/logout': 'user',
  'POST /auth/logout-all': 'user',
  'GET /auth/sessions': 'user',
  'DELETE /auth/sessions/{id}': 'user',
  'GET /users/me': 'user',
  'PUT /users/me': 'user',
  'PATCH /users/me': 'user',
  'POST /users/me/password': 'user',
  'DELETE /users/me': 'user',
  'GET /homeowners/properties': 'properties:read',
  'POST /homeowners/properties': 'properties:write',
  'GET /service-providers/services': 'services:read',
  'POST /service-providers/services': 'services:write',
  'GET /admin/users': 'users:read',
  'GET /admin/users/{id}': 'users:read',
  'PATCH /admin/users/{id}': 'users:manage',
  'GET /admin/roles': 'roles:assign',
  'POST /admin/users/{id}/roles': 'roles:assign',
  'DELETE /admin/users/{id}/roles/{role}': 'roles:assign',
  'GET /admin/audit-events': 'audit:read',
};

/**
 * Routes that end the caller's session or account when they succeed: each signed-in cell of these
 * gets a user of its own, so the shared sessions below survive the whole matrix.
 */
const SESSION_ENDING = ['POST /auth/logout', 'POST /auth/logout-all', 'DELETE /users/me'];

interface Caller {
  name: string;
  /** null: no token at all. */
  roles: RoleName[] | null;
}

const CALLERS: Caller[] = [
  { name: 'anonymous', roles: null },
  { name: 'user without a role', roles: [] },
  { name: 'homeowner', roles: ['homeowner'] },
  { name: 'service_provider', roles: ['service_provider'] },
  { name: 'homeowner+service_provider', roles: ['homeowner', 'service_provider'] },
  { name: 'admin', roles: ['admin'] },
];

type Outcome = 'open' | 'credentials' | 'allowed' | 'unauthorized' | 'forbidden';

const OUTCOME_TITLES: Record<Outcome, string> = {
  open: 'served (never 401/403)',
  credentials: 'served (401/403 only for credentials, never unauthorized/forbidden)',
  allowed: 'allowed (neither 401 nor 403)',
  unauthorized: '401 unauthorized',
  forbidden: '403 forbidden',
};

function outcome(route: RegisteredRoute, caller: Caller): Outcome {
  if (route.auth === 'public')
    return CREDENTIAL_ROUTES.includes(route.key) ? 'credentials' : 'open';
  if (caller.roles === null) return 'unauthorized';
  if (route.auth === 'user') return 'allowed';
  return grants(caller.roles, route.auth) ? 'allowed' : 'forbidden';
}

/**
 * A valid-shaped URL for a pattern: random UUIDs for ids (so an admin's DELETE or PATCH finds
 * nothing to act on and answers 404), a real role name for `:role`.
 */
function concreteUrl(pattern: string): string {
  return pattern
    .replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) =>
      name === 'role' ? 'homeowner' : randomUUID(),
    )
    .replace('*', 'index.html');
}

const sessions = new Map<string, TestUser>();
beforeAll(async () => {
  for (const caller of CALLERS) {
    if (caller.roles !== null) sessions.set(caller.name, await loginAs(t, caller.roles));
  }
});

describe('the route inventory the matrix is built from', () => {
  it(`has ${routes.length} routes × ${CALLERS.length} callers = ${routes.length * CALLERS.length} cells`, () => {
    expect(routes.length).toBeGreaterThan(20);
  });

  it('needs a token on every route but the explicit public allowlist', () => {
    const open = routes.filter((route) => route.auth === 'public' && !isDocs(route));
    expect(open.map((route) => route.key)).toEqual([...PUBLIC_ROUTES].sort());
    const docs = routes.filter(isDocs);
    expect(docs.length).toBeGreaterThan(0);
    for (const route of docs) expect(route.auth, route.key).toBe('public');
    expect(docs.filter((route) => route.method !== 'GET').map((route) => route.key)).toEqual([]);
  });

  it('guards each route API.md lists with the requirement API.md states', () => {
    const registered = routes.filter((route) => route.key in CONTRACT);
    expect(registered.length).toBeGreaterThanOrEqual(16);
    for (const route of registered)
      expect(`${route.key}: ${route.auth}`).toBe(`${route.key}: ${CONTRACT[route.key]}`);
  });

  it('asks only for permissions that exist (a typo would lock everyone out)', () => {
    const asked = routes.filter((route) => route.auth !== 'public' && route.auth !== 'user');
    for (const route of asked) expect(ALL_PERMISSIONS, route.key).toContain(route.auth);
  });

  it('takes its role × permission table from the seed the database holds', async () => {
    const rows = await t.app.db.select().from(rolePermissions);
    const stored: Record<string, string[]> = {};
    for (const row of rows)
      stored[row.roleName] = [...(stored[row.roleName] ?? []), row.permissionName];
    for (const list of Object.values(stored)) list.sort();
    expect(stored).toEqual(SEEDED_PERMISSIONS);
  });

  it('matches the OpenAPI document: every route documented, nothing else, security where guarded', async () => {
    const res = await send(t, { method: 'GET', url: '/openapi.json' });
    const doc = res.json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        url: path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1'),
        secured: (operation.security ?? []).length > 0,
      })),
    );
    const served = routes.filter((route) => !isDocs(route));
    expect(documented.map((op) => op.key).sort()).toEqual(served.map((route) => route.key));
    for (const op of documented) {
      expect(t.app.hasRoute({ method: op.method as 'GET', url: op.url }), op.key).toBe(true);
      const route = served.find((candidate) => candidate.key === op.key);
      expect(`${op.key} secured: ${op.secured}`).toBe(
        `${op.key} secured: ${route?.auth !== 'public'}`,
      );
    }
  });
});

for (const route of routes) {
  describe(`${route.key} requires ${route.auth}`, () => {
    for (const caller of CALLERS) {
      it(`${caller.name} → ${OUTCOME_TITLES[outcome(route, caller)]}`, () =>
        tryCell(route, caller));
    }
  });
}

async function tryCell(route: RegisteredRoute, caller: Caller) {
  let headers: Record<string, string> = {};
  if (caller.roles !== null) {
    const dedicated = SESSION_ENDING.includes(route.key) && route.auth !== 'public';
    const user = dedicated ? await loginAs(t, caller.roles) : sessions.get(caller.name);
    headers = { ...user?.headers };
  }
  // The guard runs on onRequest, before the body is parsed or validated, so an empty body still
  // gets 401/403 first; a caller who passes gets a 400 for it, which is what "allowed" means.
  const res = await send(t, {
    method: route.method as 'GET',
    url: concreteUrl(route.url),
    headers,
    ...(route.hasBody && { payload: {} }),
  });
  const where = `${route.key} as ${caller.name}: ${res.statusCode} ${res.body.slice(0, 200)}`;
  switch (outcome(route, caller)) {
    case 'open':
      expect([401, 403], where).not.toContain(res.statusCode);
      expect(res.statusCode, where).toBeLessThan(500);
      break;
    case 'credentials':
      if (res.statusCode === 401 || res.statusCode === 403) {
        expect(['unauthorized', 'forbidden'], where).not.toContain(res.json().code);
      }
      break;
    case 'allowed':
      expect([401, 403], where).not.toContain(res.statusCode);
      expect(res.statusCode, where).toBeLessThan(500);
      break;
    case 'unauthorized':
      expectUnauthorized(res);
      break;
    case 'forbidden':
      expect({ status: res.statusCode, code: res.json().code }, where).toEqual({
        status: 403,
        code: 'forbidden',
      });
      break;
  }
}

describe('after the matrix', () => {
  it('left every shared session working (no route ended a caller’s session unexpectedly)', async () => {
    for (const [name, user] of sessions) {
      const res = await send(t, { method: 'GET', url: '/users/me', headers: user.headers });
      expect(`${name}: ${res.statusCode}`).toBe(`${name}: 200`);
    }
  });
});
