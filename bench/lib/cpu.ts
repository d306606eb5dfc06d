import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/**
 * CPU time from /proc (Linux): a server's own (its process and every descendant, so the workers
 * of WEB_CONCURRENCY=2 count) and PostgreSQL's (the backends connected to the bench database).
 * Divided by the requests a run answered, these are the per-request costs the capacity model in
 * docs/scaling.md is built from; unlike requests/s they do not depend on who else had the cores.
 */

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

interface Stat {
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the fields after it are space-separated.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // After comm: state(0) ppid(1) ... utime(11) stime(12).
    return { ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** The process and its descendants. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const pid of allPids()) {
    const s = stat(pid);
    if (!s) continue;
    const list = parents.get(s.ppid) ?? [];
    list.push(pid);
    parents.set(s.ppid, list);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}

/** CPU seconds used so far by each of `pids` (gone ones are left out). */
export function cpuSeconds(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = stat(pid);
    if (s) out.set(pid, s.ticks / TICKS_PER_SECOND);
  }
  return out;
}

/** CPU seconds spent between two readings, over the pids of either. */
export function spent(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

let backendsOf: string | undefined;
/** Counts PostgreSQL's CPU from now on: the backends connected to this database. */
export function countPostgresCpuOf(database: string | undefined) {
  backendsOf = database;
}

/** The backends of the counted database; empty when none is set or PostgreSQL is not local. */
export async function postgresBackends(): Promise<number[]> {
  if (!backendsOf) return [];
  const client = new pg.Client({
    connectionString: process.env.BENCH_PG_URL
      ? `${process.env.BENCH_PG_URL.replace(/\/$/, '')}/postgres`
      : 'postgres://postgres@127.0.0.1:5432/postgres',
  });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend'`,
      [backendsOf],
    );
    return rows.map((row) => row.pid).filter((pid) => stat(pid)?.comm === 'postgres');
  } catch {
    return [];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts counting a server's and PostgreSQL's CPU; `stop` returns the seconds of each. */
export async function cpuMeter(serverPid: number) {
  const tree = processTree(serverPid);
  const serverBefore = cpuSeconds(tree);
  const pgBefore = cpuSeconds(await postgresBackends());
  return {
    async stop(): Promise<{ server: number; postgres: number }> {
      const server = spent(serverBefore, cpuSeconds(processTree(serverPid)));
      const backends = [...new Set([...pgBefore.keys(), ...(await postgresBackends())])];
      return { server, postgres: spent(pgBefore, cpuSeconds(backends)) };
    },
  };
}
