import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import pg from 'pg';

/**
 * The floor: the least a Node server can do to answer GET /users/{id} from PostgreSQL. Fastify
 * and a pg pool the size of the app's, one primary-key SELECT as a named prepared statement, and
 * nothing else: no auth, no validation, no logging, no hooks. What Homefront's GET /users/me
 * achieves is read as a fraction of this.
 */

const port = Number(process.env.PORT ?? 3999);
const poolMax = Number(process.env.DB_POOL_MAX ?? 10);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: poolMax });

/**
 * DRIVER=postgres runs every query of the floor on postgres.js (`postgres`, which drizzle also
 * supports) instead of node-postgres: the same SQL, the same pool size, prepared statements (by
 * text, as postgres.js names them), to price the driver alone. postgres.js is not a dependency:
 * `npm install --no-save postgres@3.4.9` first.
 */
const driver = process.env.DRIVER ?? 'pg';
interface Driver {
  query<T>(name: string, text: string, values: unknown[]): Promise<T[]>;
  arrays(name: string, text: string, values: unknown[]): Promise<unknown[][]>;
  end(): Promise<void>;
}
async function postgresJs(): Promise<Driver> {
  const { default: postgres } = (await import('postgres' as string)) as {
    default: (
      url: string | undefined,
      options: Record<string, unknown>,
    ) => {
      unsafe(
        text: string,
        values: unknown[],
        options: { prepare: boolean },
      ): Promise<unknown[]> & { values(): Promise<unknown[][]> };
      end(): Promise<void>;
    };
  };
  const sql = postgres(process.env.DATABASE_URL, { max: poolMax, onnotice: () => {} });
  return {
    query: async <T>(_name: string, text: string, values: unknown[]) =>
      (await sql.unsafe(text, values, { prepare: true })) as T[],
    arrays: (_name, text, values) => sql.unsafe(text, values, { prepare: true }).values(),
    end: () => sql.end(),
  };
}
const db: Driver =
  driver === 'postgres'
    ? await postgresJs()
    : {
        query: async <T>(name: string, text: string, values: unknown[]) =>
          (await pool.query({ name, text, values })).rows as T[],
        arrays: async (name, text, values) =>
          (await pool.query({ name, text, values, rowMode: 'array' })).rows as unknown[][],
        end: () => pool.end(),
      };
const app = Fastify({ logger: false });

const SELECT_USER = `select id, email, full_name as "fullName", phone, email_verified as "emailVerified",
       is_active as "isActive", created_at as "createdAt", updated_at as "updatedAt"
  from users where id = $1`;

app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
  const rows = await db.query<Record<string, unknown>>('floor_user', SELECT_USER, [
    request.params.id,
  ]);
  if (!rows[0]) return reply.code(404).send({ status: 404 });
  return rows[0];
});

/**
 * The floor plus the app's own per-request auth query (loadCaller from the compiled dist/: the
 * session, the user, roles and permissions), still without token checks, hooks or schemas; it
 * splits GET /users/me's cost between the database and the rest.
 */
type LoadCaller = (
  database: { query<T>(name: string, text: string, values: unknown[]): Promise<T[]> },
  userId: string,
  sessionId: string,
  now: Date,
) => Promise<unknown>;
const root = process.env.BENCH_ROOT ?? process.cwd();
const { loadCaller } = (await import(
  pathToFileURL(`${root}/dist/modules/users/caller.js`).href
)) as { loadCaller: LoadCaller };
const database = {
  async query<T>(name: string, text: string, values: unknown[]) {
    return db.query<T>(name, text, values);
  },
};

app.get<{ Params: { userId: string; sessionId: string } }>(
  '/caller/:userId/:sessionId',
  async (request, reply) => {
    const caller = await loadCaller(
      database,
      request.params.userId,
      request.params.sessionId,
      new Date(),
    );
    if (!caller) return reply.code(404).send({ status: 404 });
    return caller;
  },
);

/**
 * The catalog floor: the app's auth query (loadCaller) and permission check, then the very SQL
 * of the catalog's page query (built by the app's own catalogQuery, from dist/) as a named
 * prepared statement per filter shape, rows read as arrays and shaped by hand, and the page
 * serialised through the route's own response schema (Page(CatalogService)). No token check,
 * no hooks, no query-string validation, no ORM.
 */
const distModule = async <T>(file: string) =>
  (await import(pathToFileURL(`${root}/dist/${file}`).href)) as T;
const { catalogQuery } = await distModule<typeof import('../src/modules/services/catalog.js')>(
  'modules/services/catalog.js',
);
const { normalisePostalCode } = await distModule<typeof import('../src/modules/services/input.js')>(
  'modules/services/input.js',
);
const { toPage, decodeCursor } =
  await distModule<typeof import('../src/lib/pagination.js')>('lib/pagination.js');
const { Page } = await distModule<typeof import('../src/lib/schemas.js')>('lib/schemas.js');
const { CatalogService } = await distModule<typeof import('../src/modules/services/schemas.js')>(
  'modules/services/schemas.js',
);
const schema = await distModule<typeof import('../src/db/schema.js')>('db/schema.js');
const { drizzle } = await import('drizzle-orm/node-postgres');
const { Placeholder, sql } = await import('drizzle-orm');
const builder = drizzle({ client: pool, schema, casing: 'snake_case' });

const FILTERS = ['category', 'postalCode', 'q', 'after'] as const;
type Filter = Partial<Record<(typeof FILTERS)[number], string>>;
const statements = new Map<
  string,
  { name: string; text: string; order: unknown[]; shape: Shape }
>();
function statement(filter: Filter, rows: number) {
  const present = FILTERS.filter((name) => filter[name]);
  const shape = `${present.join('_') || 'all'}_${rows}`;
  let found = statements.get(shape);
  if (!found) {
    const parameters = Object.fromEntries(present.map((name) => [name, sql.placeholder(name)]));
    const query = catalogQuery(builder as never, { ...parameters, limit: rows });
    const built = query.toSQL();
    found = {
      name: `floor_catalog_${shape}`,
      text: built.sql,
      order: built.params,
      shape: shaper(
        (query as unknown as { config: { fields: Record<string, unknown> } }).config.fields,
      ),
    };
    statements.set(shape, found);
  }
  return {
    name: found.name,
    text: found.text,
    shape: found.shape,
    values: found.order.map((param) =>
      param instanceof Placeholder ? filter[param.name as keyof Filter] : param,
    ),
  };
}

app.get<{
  Params: { userId: string; sessionId: string };
  Querystring: Record<string, string | undefined>;
}>(
  '/catalog/:userId/:sessionId',
  { schema: { response: { 200: Page(CatalogService) } } },
  async (request, reply) => {
    const caller = (await loadCaller(
      database,
      request.params.userId,
      request.params.sessionId,
      new Date(),
    )) as { permissions: string[] } | undefined;
    if (!caller?.permissions.includes('catalog:read')) return reply.code(404).send({ status: 404 });
    const { category, postalCode, q, cursor } = request.query;
    const limit = Number(request.query.limit ?? 20);
    const query = statement(
      {
        category,
        postalCode: postalCode === undefined ? undefined : normalisePostalCode(postalCode),
        q: q?.trim(),
        after: decodeCursor(cursor),
      },
      [11, 21, 51, 101].find((bucket) => bucket >= limit + 1) ?? limit + 1,
    );
    const rows = await db.arrays(query.name, query.text, query.values);
    const services = rows.map((row) => {
      const { sortKey: _key, ...service } = query.shape(row, { i: 0 }) as {
        id: string;
        sortKey?: unknown;
      };
      return service;
    });
    return toPage(services, limit);
  },
);

/**
 * The marketplace floor: the same auth query and permission check, then the very SQL of the
 * provider feed and the booking lists (built by the app's own feedQuery and bookingsQuery, from
 * dist/) as named prepared statements, rows read as arrays and shaped by hand into the same nested
 * objects, serialised through the routes' own response schemas. What the lists can reach with
 * their page's size and joins, whatever the app around them does.
 */
const marketplace = await distModule<typeof import('../src/modules/marketplace/repository.js')>(
  'modules/marketplace/repository.js',
);
const { Booking, OpenJobRequest } = await distModule<
  typeof import('../src/modules/marketplace/schemas.js')
>('modules/marketplace/schemas.js');
const { literalLimit } =
  await distModule<typeof import('../src/lib/prepared.js')>('lib/prepared.js');
const { is, Column, SQL } = await import('drizzle-orm');

type Shape = (row: unknown[], at: { i: number }) => unknown;
/** Arrays to the builder's nested selection, as drizzle maps it (an all-null object is null). */
function shaper(fields: Record<string, unknown>): Shape {
  const plan = Object.entries(fields).map(
    ([key, field]) =>
      [
        key,
        is(field, Column) || is(field, SQL) || is(field, SQL.Aliased)
          ? undefined
          : shaper(field as Record<string, unknown>),
      ] as const,
  );
  return (row, at) => {
    const out: Record<string, unknown> = {};
    let present = false;
    for (const [key, nested] of plan) {
      const value = nested ? nested(row, at) : row[at.i++];
      out[key] = value;
      if (value !== null) present = true;
    }
    return present ? out : null;
  };
}
interface ListStatement {
  name: string;
  text: string;
  shape: Shape;
}
function listStatement(
  name: string,
  query: { toSQL(): { sql: string }; config: { fields: unknown } },
): ListStatement {
  return {
    name,
    text: query.toSQL().sql,
    shape: shaper(query.config.fields as Record<string, unknown>),
  };
}
const PAGE_ROWS = 21;
const partyParameter = sql.placeholder('party') as unknown as string;
const page = { limit: literalLimit(PAGE_ROWS) };
const bookingsOf = (party: 'homeownerId' | 'providerId') =>
  marketplace.bookingsQuery(builder as never, {
    ...page,
    party: { [party]: partyParameter } as never,
  });
const listStatements = {
  feed: listStatement(
    'floor_feed',
    marketplace.feedQuery(builder as never, partyParameter, page) as never,
  ),
  homeowner: listStatement('floor_bookings_homeowner', bookingsOf('homeownerId') as never),
  provider: listStatement('floor_bookings_provider', bookingsOf('providerId') as never),
};

for (const [list, permission, schema] of [
  ['feed', 'feed:read', OpenJobRequest],
  ['homeowner', 'bookings:read', Booking],
  ['provider', 'bookings:read', Booking],
] as const) {
  const statement = listStatements[list];
  // Every placeholder of these statements is the party: the values repeat the caller's id.
  const parameters = (statement.text.match(/\$\d+/g) ?? []).length;
  app.get<{ Params: { userId: string; sessionId: string } }>(
    `/marketplace/${list}/:userId/:sessionId`,
    { schema: { response: { 200: Page(schema) } } },
    async (request, reply) => {
      const caller = (await loadCaller(
        database,
        request.params.userId,
        request.params.sessionId,
        new Date(),
      )) as { permissions: string[] } | undefined;
      if (!caller?.permissions.includes(permission)) return reply.code(404).send({ status: 404 });
      const rows = await db.arrays(
        statement.name,
        statement.text,
        Array.from({ length: parameters }, () => request.params.userId),
      );
      return toPage(
        rows.map((row) => statement.shape(row, { i: 0 }) as { id: string }),
        PAGE_ROWS - 1,
      );
    },
  );
}

app.get('/health/ready', async () => {
  await db.query('floor_ready', 'select 1', []);
  return { status: 'ok' };
});

const shutdown = async () => {
  await app.close();
  await db.end();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ port, host: '127.0.0.1' });
