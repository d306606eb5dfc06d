import type { Server } from './lib/children.js';
import type { Target, Variant } from './lib/load.js';
import { AUTH_QUERY_FLOOR, FLOOR } from './lib/summary.js';

/** The loads the bench runs, grouped; each group's targets are measured interleaved. */

/** What the app's scenarios (and the floor's) need; the header servers are separate. */
export interface AppContext {
  app: Server;
  floor: Server;
  connections: number;
  loginConnections: number;
  /** Access tokens of several homeowners; connections take them round-robin. */
  tokens: string[];
  /** The homeowner with many properties. */
  heavyOwnerToken: string;
  /** Ids of the token users and their sessions, for the floor's lookups. */
  userIds: string[];
  sessionIds: string[];
  loginEmails: string[];
  password: string;
  /** Cursor of the deep catalog page, or why there is none. */
  deepCursor: { cursor: string; page: number } | { skip: string };
  catalogFilter: { category: string; postalCode: string };
  catalogQ: string;
}

export interface ScenarioContext extends AppContext {
  headerServers: { none: Server; homefront: Server; helmet: Server };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const withTokens = (tokens: string[], path: string, body?: string): Variant[] =>
  tokens.map((token) => ({ path, headers: bearer(token), ...(body !== undefined && { body }) }));

/** Unauthenticated no-op vs authenticated one-query route vs the floor. */
export function coreTargets(c: AppContext): Target[] {
  return [
    {
      name: 'GET /health/live',
      server: c.app,
      variants: [{ path: '/health/live' }],
      connections: c.connections,
    },
    {
      name: 'GET /users/me',
      server: c.app,
      variants: withTokens(c.tokens, '/users/me'),
      connections: c.connections,
    },
    {
      name: FLOOR,
      server: c.floor,
      variants: c.userIds.map((id) => ({ path: `/users/${id}` })),
      connections: c.connections,
    },
    {
      name: AUTH_QUERY_FLOOR,
      server: c.floor,
      variants: c.userIds.map((id, i) => ({ path: `/caller/${id}/${c.sessionIds[i]}` })),
      connections: c.connections,
    },
  ];
}

export function catalogTargets(c: AppContext): Target[] {
  const { category, postalCode } = c.catalogFilter;
  const deep = c.deepCursor;
  return [
    {
      name: 'GET /services (page 1)',
      server: c.app,
      variants: withTokens(c.tokens, '/services?limit=20'),
      connections: c.connections,
    },
    {
      name: `GET /services (page ${'page' in deep ? deep.page : 'deep'})`,
      server: c.app,
      variants: withTokens(
        c.tokens,
        'cursor' in deep ? `/services?limit=20&cursor=${encodeURIComponent(deep.cursor)}` : '/',
      ),
      connections: c.connections,
      ...('skip' in deep && { skip: deep.skip }),
    },
    {
      name: 'GET /services?category&postalCode',
      server: c.app,
      variants: withTokens(c.tokens, `/services?category=${category}&postalCode=${postalCode}`),
      connections: c.connections,
    },
    {
      name: 'GET /services?q',
      server: c.app,
      variants: withTokens(c.tokens, `/services?q=${encodeURIComponent(c.catalogQ)}`),
      connections: c.connections,
    },
  ];
}

/** A valid PropertyInput (API.md). */
export const PROPERTY_INPUT = JSON.stringify({
  name: 'Bench cottage',
  addressLine1: '12 Bench St',
  city: 'Springfield',
  region: 'IL',
  postalCode: '62701',
  country: 'US',
  propertyType: 'single_family',
  yearBuilt: 1987,
  floorAreaSqft: 1850,
  notes: 'Created by npm run bench.',
});

export function propertyTargets(c: AppContext): Target[] {
  // Writers are the other token users, so the listed homeowner's list stays as seeded.
  const writers = c.tokens.length > 1 ? c.tokens.slice(1) : c.tokens;
  return [
    {
      name: 'GET /homeowners/properties',
      server: c.app,
      variants: withTokens([c.heavyOwnerToken], '/homeowners/properties?limit=20'),
      connections: c.connections,
    },
    {
      name: 'POST /homeowners/properties',
      server: c.app,
      method: 'POST',
      variants: withTokens(writers, '/homeowners/properties', PROPERTY_INPUT),
      connections: c.connections,
    },
  ];
}

/** Logins that succeed, each connection its own user (the per-email throttle never applies). */
export function loginTarget(c: AppContext): Target {
  return {
    name: 'POST /auth/login (bcrypt 12)',
    server: c.app,
    method: 'POST',
    variants: c.loginEmails.map((email) => ({
      path: '/auth/login',
      body: JSON.stringify({ email, password: c.password }),
    })),
    connections: c.loginConnections,
    timeoutSeconds: 30,
    drain: true,
  };
}

export function headerTargets(c: ScenarioContext): Target[] {
  const bare = (name: string, server: Server): Target => ({
    name,
    server,
    variants: [{ path: '/bench' }],
    connections: c.connections,
  });
  return [
    bare('headers: bare Fastify route, none', c.headerServers.none),
    bare('headers: + Homefront security-headers', c.headerServers.homefront),
    bare('headers: + @fastify/helmet', c.headerServers.helmet),
  ];
}

/**
 * WEB_CONCURRENCY=1 vs 2, both with rate-limit counters in Redis (as several workers need), on
 * the same database and tokens: the authenticated one-query route and the catalog's first page.
 */
export function workerTargets(c: ScenarioContext, servers: { one: Server; two: Server }): Target[] {
  return (
    [
      ['1 worker', servers.one],
      ['2 workers', servers.two],
    ] as const
  ).flatMap(([label, server]) => [
    {
      name: `GET /users/me, ${label} (Redis counters)`,
      server,
      variants: withTokens(c.tokens, '/users/me'),
      connections: c.connections,
    },
    {
      name: `GET /services page 1, ${label} (Redis counters)`,
      server,
      variants: withTokens(c.tokens, '/services?limit=20'),
      connections: c.connections,
    },
  ]);
}
