import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssMb, stop } from './children.js';
import type { StartupFigures } from './report.js';
import { scratch, startApp } from './servers.js';
import { median } from './stats.js';

/**
 * Spawn to /health/ready 200 of `node dist/server.js`: against the (migrated) PostgreSQL bench
 * database, on an empty PGlite DATA_DIR, and again on that same DATA_DIR.
 */
export async function measureStartups(
  databaseUrl: string,
  repeats: number,
  figures: StartupFigures,
): Promise<void> {
  const postgres: number[] = [];
  const pgliteFirst: number[] = [];
  const pgliteRestart: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = await startApp('startup-postgres', databaseUrl);
    postgres.push(Math.round(started.readyMs));
    await stop(started.server);
  }
  figures.settledRss = await settledRss(databaseUrl);
  let dataDir = '';
  let pgliteRss: number[] = [];
  for (let i = 0; i < repeats; i++) {
    dataDir = mkdtempSync(path.join(scratch(), 'pglite-'));
    const started = await startApp('startup-pglite', undefined, { DATA_DIR: dataDir });
    pgliteFirst.push(Math.round(started.readyMs));
    pgliteRss.push(started.idleRssMb);
    await stop(started.server);
  }
  for (let i = 0; i < repeats; i++) {
    const started = await startApp('startup-pglite-restart', undefined, { DATA_DIR: dataDir });
    pgliteRestart.push(Math.round(started.readyMs));
    pgliteRss = [...pgliteRss, started.idleRssMb];
    await stop(started.server);
  }
  figures.samples = { ...figures.samples, postgres, pgliteFirst, pgliteRestart };
  figures.postgresMs = median(postgres);
  figures.pgliteFirstMs = median(pgliteFirst);
  figures.pgliteRestartMs = median(pgliteRestart);
  const pgliteIdle = median(pgliteRss);
  figures.idleRssMb.pglite =
    pgliteIdle === undefined ? undefined : Math.round(pgliteIdle * 10) / 10;
}

/**
 * Starts once more on PostgreSQL and leaves the server idle, sampling its RSS every second until
 * it has not moved for 5 samples in a row after a drop (V8's memory reducer gives back the young
 * generation start-up grew), or 40 s.
 */
export async function settledRss(
  databaseUrl: string,
  node?: string,
): Promise<NonNullable<StartupFigures['settledRss']>> {
  const started = await startApp('startup-settled-rss', databaseUrl, {}, [], node);
  const samplesMb: number[] = [];
  try {
    for (let second = 1; second <= 40; second++) {
      await sleep(1_000);
      samplesMb.push(Math.round((rssMb(started.server.pid) ?? 0) * 10) / 10);
      const last = samplesMb.slice(-5);
      const dropped = Math.min(...samplesMb) < samplesMb[0]! - 5;
      if (dropped && last.length === 5 && Math.max(...last) - Math.min(...last) < 1) break;
    }
  } finally {
    await stop(started.server);
  }
  return { mb: samplesMb.at(-1) ?? 0, afterSeconds: samplesMb.length + 1, samplesMb };
}
