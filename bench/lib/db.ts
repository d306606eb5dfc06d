import pg from 'pg';

/** The PostgreSQL server the bench uses; BENCH_PG_URL overrides it (a server, not a database). */
export const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const BENCH_DB = process.env.BENCH_DB ?? 'homefront_bench';

export function databaseUrl(database: string): string {
  const url = new URL(PG_SERVER);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function recreateDatabase(name: string): Promise<void> {
  await admin(async (client) => {
    await client.query(`drop database if exists ${quoted(name)} with (force)`);
    await client.query(`create database ${quoted(name)}`);
  });
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`drop database if exists ${quoted(name)} with (force)`));
}

/** Any fixed number; the same for every bench run. */
const BENCH_LOCK_ID = 4_811_203_977;

/**
 * One bench at a time per PostgreSQL server: two runs would drop each other's database and share
 * the cores. Waits for a run in progress; the lock goes with the connection (release, or exit).
 */
export async function holdBenchLock(lockId = BENCH_LOCK_ID): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
    lockId,
  ]);
  if (!rows[0]?.ok) {
    console.log('another bench run holds the lock; waiting for it to finish');
    await client.query('select pg_advisory_lock($1)', [lockId]);
  }
  return () => client.end();
}
