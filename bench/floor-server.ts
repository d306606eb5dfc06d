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
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
const app = Fastify({ logger: false });

const SELECT_USER = `select id, email, full_name as "fullName", phone, email_verified as "emailVerified",
       is_active as "isActive", created_at as "createdAt", updated_at as "updatedAt"
  from users where id = $1`;

app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
  const { rows } = await pool.query({
    name: 'floor_user',
    text: SELECT_USER,
    values: [request.params.id],
  });
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
    return (await pool.query({ name, text, values })).rows as T[];
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

app.get('/health/ready', async () => {
  await pool.query('select 1');
  return { status: 'ok' };
});

const shutdown = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ port, host: '127.0.0.1' });
