import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function freshPgDatabase(prefix) {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(PG);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const ms = (start) => Math.round(performance.now() - start);
export const rss = () => mb(process.memoryUsage().rss);

export async function until(check, timeoutMs = 60_000, stepMs = 20) {
  const start = performance.now();
  for (;;) {
    if (await check()) return ms(start);
    if (performance.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** p50/p99 of a trivial query the app would run, in ms, over `n` sequential runs. */
export async function queryLatency(run, n = 300) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return { p50: +percentile(times, 50).toFixed(2), p99: +percentile(times, 99).toFixed(2) };
}

export async function idleCpu(seconds) {
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / 1000 / seconds); // ms of CPU per second
}

export function report(result) {
  console.log(JSON.stringify(result));
}
