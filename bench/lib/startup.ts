import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { stop } from './children.js';
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
