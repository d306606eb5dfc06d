import type { Server } from './lib/children.js';
import type { Target, Variant } from './lib/load.js';
import {
  AUTH_QUERY_FLOOR,
  FLOOR,
  MARKETPLACE_LISTS,
  MARKETPLACE_REFERENCE,
} from './lib/summary.js';

/** The loads the bench runs, grouped; each group's targets are measured interleaved. */

/** What the app's scenarios (and the floor's) need; the header servers are separate. */
export interface AppContext {
  app: Server;
  floor: Server;
  connections: number;
  loginConnections: number;
  /** Access tokens of several homeowners; connections take them round-robin. */
  tokens: string[];
  /** Access tokens of the providers with the most bookings. */
  providerTokens: string[];
  /** Ids of those providers and their sessions, for the marketplace floor. */
  providerIds: string[];
  providerSessionIds: string[];
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

/** The catalog floor's name for a catalog scenario (bench/floor-server.ts, /catalog/...). */
export const catalogFloorName = (scenario: string) => `catalog floor: ${scenario.slice(4)}`;

/**
 * The catalog's four queries, each beside the catalog floor running the same auth query and the
 * same page query (every token user's session, round-robin), interleaved.
 */
export function catalogTargets(c: AppContext): Target[] {
  const { category, postalCode } = c.catalogFilter;
  const deep = c.deepCursor;
  const queries: Array<{ name: string; query: string; skip?: string }> = [
    { name: 'GET /services (page 1)', query: 'limit=20' },
    {
      name: `GET /services (page ${'page' in deep ? deep.page : 'deep'})`,
      query: 'cursor' in deep ? `limit=20&cursor=${encodeURIComponent(deep.cursor)}` : '',
      ...('skip' in deep && { skip: deep.skip }),
    },
    {
      name: 'GET /services?category&postalCode',
      query: `category=${category}&postalCode=${postalCode}`,
    },
    { name: 'GET /services?q', query: `q=${encodeURIComponent(c.catalogQ)}` },
  ];
  return queries.flatMap(({ name, query, skip }) => [
    {
      name,
      server: c.app,
      variants: withTokens(c.tokens, `/services?${query}`),
      connections: c.connections,
      ...(skip !== undefined && { skip }),
    },
    {
      name: catalogFloorName(name),
      server: c.floor,
      variants: c.userIds.map((id, i) => ({ path: `/catalog/${id}/${c.sessionIds[i]}?${query}` })),
      connections: c.connections,
      ...(skip !== undefined && { skip }),
    },
  ]);
}

/** The marketplace floor's name for a list scenario (bench/floor-server.ts, /marketplace/...). */
export const marketplaceFloorName = (scenario: string) => `marketplace floor: ${scenario.slice(4)}`;

/**
 * The provider feed and the two booking lists, first pages, interleaved with GET /users/me so
 * that each is a ratio of it in one run (issue 16: each at least 60%), and each beside the
 * marketplace floor running the same auth query, the same list SQL and the same response schema.
 */
export function marketplaceTargets(c: AppContext): Target[] {
  const [feed, homeownerBookings, providerBookings] = MARKETPLACE_LISTS as [string, string, string];
  const lists = [
    [
      feed,
      c.providerTokens,
      '/service-providers/requests',
      'feed',
      c.providerIds,
      c.providerSessionIds,
    ],
    [homeownerBookings, c.tokens, '/homeowners/bookings', 'homeowner', c.userIds, c.sessionIds],
    [
      providerBookings,
      c.providerTokens,
      '/service-providers/bookings',
      'provider',
      c.providerIds,
      c.providerSessionIds,
    ],
  ] as const;
  return [
    {
      name: MARKETPLACE_REFERENCE,
      server: c.app,
      variants: withTokens(c.tokens, '/users/me'),
      connections: c.connections,
    },
    ...lists.flatMap(([name, tokens, path, floorList, ids, sessions]) => [
      {
        name,
        server: c.app,
        variants: withTokens(tokens, `${path}?limit=20`),
        connections: c.connections,
      },
      {
        name: marketplaceFloorName(name),
        server: c.floor,
        variants: ids.map((id, i) => ({ path: `/marketplace/${floorList}/${id}/${sessions[i]}` })),
        connections: c.connections,
      },
    ]),
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

/** The per-request pieces priced one by one on a bare route (bench/pieces-server.ts). */
export const PIECE_SETS: Record<string, string> = {
  none: '',
  'request id': 'request-id',
  'security headers': 'security-headers',
  'rate limit': 'rate-limit',
  'rate limit + metrics': 'rate-limit,metrics',
  'logging (warn)': 'logging',
  'serialisation (User schema)': 'schema',
  'all of them': 'request-id,security-headers,rate-limit,metrics,logging,schema',
};

export const pieceName = (label: string) => `pieces: bare route + ${label}`;

export function pieceTargets(connections: number, servers: Record<string, Server>): Target[] {
  return Object.keys(PIECE_SETS).map((label) => ({
    name: pieceName(label),
    server: servers[label]!,
    variants: [{ path: '/bench' }],
    connections,
  }));
}

/**
 * The driver alone: the floor's hot routes on node-postgres and on postgres.js (the same floor
 * server, DRIVER=postgres), the same SQL and pool size, side by side, interleaved.
 */
export function driverTargets(c: AppContext, postgresJsFloor: Server): Target[] {
  const routes: Array<[string, (id: string, session: string) => string]> = [
    ['GET /users/{id}', (id) => `/users/${id}`],
    ['the auth query (loadCaller)', (id, session) => `/caller/${id}/${session}`],
    [
      'catalog page 1 (auth query + page query)',
      (id, session) => `/catalog/${id}/${session}?limit=20`,
    ],
  ];
  return routes.flatMap(([label, path]) =>
    (
      [
        ['node-postgres', c.floor],
        ['postgres.js', postgresJsFloor],
      ] as const
    ).map(([driver, server]) => ({
      name: `driver: ${label} · ${driver}`,
      server,
      variants: c.userIds.map((id, i) => ({ path: path(id, c.sessionIds[i]!) })),
      connections: c.connections,
    })),
  );
}
