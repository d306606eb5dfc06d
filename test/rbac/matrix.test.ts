import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolePermissions } from '../../src/db/schema.js';
import { createTestApp } from '../helpers/app.js';
import { collectRoutes, type RegisteredRoute } from '../helpers/routes.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { CONTRACT, type ContractRow, isOpen } from '../protection/contract.js';
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
 * caller, each cell expected from the CONTRACT table (written from API.md), never from the route's
 * own declaration: a route that loses its guard, or one added without a row in the table, fails.
 */

const { built: t, routes } = await collectRoutes(() => createTestApp({ noSmtp: true }));
afterAll(() => t.close());

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

/** What one caller gets from one route: the contract's status, or the guard's refusal. */
type Expected = { status: number; refusal?: 'unauthorized' | 'forbidden' };

function expected(row: ContractRow, caller: Caller): Expected {
  if (isOpen(row.access)) return { status: row.allowed };
  if (caller.roles === null) return { status: 401, refusal: 'unauthorized' };
  if (row.access === 'signed-in' || grants(caller.roles, row.access))
    return { status: row.allowed };
  return { status: 403, refusal: 'forbidden' };
}

const titleOf = ({ status, refusal }: Expected) => (refusal ? `${status} ${refusal}` : `${status}`);

/** The route's row; a route the table lacks fails the inventory test below, and its cells here. */
function rowOf(route: RegisteredRoute): ContractRow {
  const row = CONTRACT[route.key];
  if (!row) throw new Error(`${route.key} has no row in test/protection/contract.ts`);
  return row;
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

describe('the route inventory against the contract table', () => {
  it(`has ${routes.length} routes × ${CALLERS.length} callers = ${routes.length * CALLERS.length} cells`, () => {
    expect(routes.length).toBeGreaterThan(40);
  });

  it('has a row for every registered route, and registers every route of the table', () => {
    const registered = routes.map((route) => route.key);
    expect(
      registered.filter((key) => !(key in CONTRACT)),
      'routes without a row',
    ).toEqual([]);
    expect(
      Object.keys(CONTRACT).filter((key) => !registered.includes(key)),
      'rows without a route',
    ).toEqual([]);
  });

  it('asks only for permissions that exist (a typo would lock everyone out)', () => {
    for (const [key, row] of Object.entries(CONTRACT)) {
      if (row.access.includes(':')) expect(ALL_PERMISSIONS, key).toContain(row.access);
    }
  });

  it('takes its role × permission table from the seed the database holds', async () => {
    const rows = await t.app.db.select().from(rolePermissions);
    const stored: Record<string, string[]> = {};
    for (const row of rows)
      stored[row.roleName] = [...(stored[row.roleName] ?? []), row.permissionName];
    for (const list of Object.values(stored)) list.sort();
    expect(stored).toEqual(SEEDED_PERMISSIONS);
  });

  it('matches the OpenAPI document: every route documented but the docs pages, security where the table guards', async () => {
    const res = await send(t, { method: 'GET', url: '/openapi.json' });
    const doc = res.json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        secured: (operation.security ?? []).length > 0,
      })),
    );
    const served = routes.filter((route) => !route.hidden).map((route) => route.key);
    expect(documented.map((op) => op.key).sort()).toEqual(served);
    for (const op of documented) {
      const access = CONTRACT[op.key]?.access ?? 'no row';
      expect(`${op.key} secured: ${op.secured}`).toBe(
        `${op.key} secured: ${access !== 'no row' && !isOpen(access)}`,
      );
    }
  });
});

for (const route of routes) {
  const row = CONTRACT[route.key];
  describe(`${route.key} requires ${row?.access ?? 'a row in the contract table'}`, () => {
    for (const caller of CALLERS) {
      const cell = row ? titleOf(expected(row, caller)) : 'its row';
      it(`${caller.name} → ${cell}`, () => tryCell(route, caller));
    }
  });
}

async function tryCell(route: RegisteredRoute, caller: Caller) {
  const row = rowOf(route);
  let headers: Record<string, string> = {};
  if (caller.roles !== null) {
    const dedicated = SESSION_ENDING.includes(route.key) && !isOpen(row.access);
    const user = dedicated ? await loginAs(t, caller.roles) : sessions.get(caller.name);
    headers = { ...user?.headers };
  }
  // The guard runs on onRequest, before the body is parsed or validated, so an empty body still
  // gets 401/403 first; a caller who passes gets a 400 for it, which the table expects.
  const res = await send(t, {
    method: route.method as 'GET',
    url: concreteUrl(route.url),
    headers,
    ...(route.hasBody && { payload: {} }),
  });
  const where = `${route.key} as ${caller.name}: ${res.statusCode} ${res.body.slice(0, 200)}`;
  const want = expected(row, caller);
  if (want.refusal === 'unauthorized') {
    expectUnauthorized(res);
  } else if (want.refusal === 'forbidden') {
    expect({ status: res.statusCode, code: res.json().code }, where).toEqual({
      status: 403,
      code: 'forbidden',
    });
  } else {
    expect(res.statusCode, where).toBe(want.status);
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
