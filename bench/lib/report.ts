import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BcryptRate } from './bcrypt-rate.js';
import type { ScenarioResult } from './load.js';
import { metaLine, type RunMeta, settingsLines } from './meta.js';

export interface StartupFigures {
  /** Spawn to /health/ready 200, in ms (median of the repeats). */
  postgresFreshMs?: number;
  postgresMs?: number;
  pgliteFirstMs?: number;
  pgliteRestartMs?: number;
  /** RSS a second after ready, before any load. */
  idleRssMb: { postgres?: number; pglite?: number };
  /**
   * RSS of a PostgreSQL-backed server left idle after start, once V8's memory reducer has
   * returned the young generation that start-up grew (it runs after several idle seconds).
   */
  settledRss?: { mb: number; afterSeconds: number; samplesMb: number[] };
  samples: Record<string, number[]>;
}

export interface Report {
  meta: RunMeta;
  seed?: { counts: Record<string, number>; seconds: number };
  startup: StartupFigures;
  scenarios: ScenarioResult[];
  /** Raw compares/s with every core busy, and one at a time (one core). */
  bcrypt?: BcryptRate;
  bcryptOneAtATime?: BcryptRate;
  comparisons: Record<string, unknown>;
  /** After all the load: the app's and the floor's RSS, and the app's V8 heap (its /metrics). */
  memory?: {
    appRssMb?: number;
    floorRssMb?: number;
    appHeapUsedMb?: number;
    appHeapTotalMb?: number;
    appExternalMb?: number;
  };
  /** The marketplace lists' plans on the full seed (EXPLAIN of the routes' own queries). */
  plans?: Record<string, string>;
  notes: string[];
}

const fixed = (value: number | undefined, digits = 0) =>
  value === undefined ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits });
const ms = (value: number | undefined) => (value === undefined ? '–' : `${value} ms`);

/** Errors plus non-2xx answers, with the status codes when there are any. */
function problems(s: ScenarioResult): string {
  const total = (s.errors ?? 0) + (s.non2xx ?? 0);
  const codes = Object.entries(s.otherStatuses ?? {})
    .map(([code, count]) => `${code}: ${count}`)
    .join(', ');
  return codes ? `${total} (${codes})` : String(total);
}

export function scenarioTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.map((s) =>
    s.status === 'ok'
      ? `| ${s.name} | ${s.connections} | ${fixed(s.rps)} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${fixed(s.cpuUs)} | ${fixed(s.pgCpuUs)} | ${problems(s)} | ${fixed(s.rssMb)} MB |`
      : `| ${s.name} | ${s.connections} | ${s.note ?? s.status} | | | | | | | |`,
  );
  return [
    '| scenario | conns | requests/s | p50 | p90 | p99 | server CPU µs/req | PostgreSQL CPU µs/req | errors + non-2xx | server RSS (peak) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export function markdown(report: Report, summary: string[]): string {
  const { meta, startup } = report;
  return [
    `# Homefront benchmark${meta.quick ? ' (quick smoke run)' : ''}`,
    '',
    metaLine(meta),
    '',
    ...settingsLines(meta, report.seed),
    '',
    scenarioTable(report.scenarios),
    '',
    'requests/s: median of the measured runs (every run is in latest.json); latencies: median of the runs’ percentiles (autocannon, 1 ms resolution); CPU µs/req: CPU time (user + system, from /proc) per answered request, median of the runs, of the server (all its processes) and of the PostgreSQL backends connected to the bench database; RSS: the peak VmRSS of the server’s processes (summed) during the runs.',
    '',
    '## Summary',
    '',
    ...summary.map((line) => `- ${line}`),
    '',
    '## Startup to ready',
    '',
    '| start | ms | samples |',
    '|---|---:|---|',
    `| PostgreSQL, fresh database (migrations applied) | ${fixed(startup.postgresFreshMs)} | ${startup.samples.postgresFresh?.map((n) => fixed(n)).join(', ') ?? ''} |`,
    `| PostgreSQL, migrated database | ${fixed(startup.postgresMs)} | ${startup.samples.postgres?.map((n) => fixed(n)).join(', ') ?? ''} |`,
    `| PGlite, first start (empty DATA_DIR) | ${fixed(startup.pgliteFirstMs)} | ${startup.samples.pgliteFirst?.map((n) => fixed(n)).join(', ') ?? ''} |`,
    `| PGlite, restart (same DATA_DIR) | ${fixed(startup.pgliteRestartMs)} | ${startup.samples.pgliteRestart?.map((n) => fixed(n)).join(', ') ?? ''} |`,
    '',
    `Idle RSS a second after ready: PostgreSQL ${fixed(startup.idleRssMb.postgres, 1)} MB, PGlite ${fixed(startup.idleRssMb.pglite, 1)} MB.`,
    ...(startup.settledRss
      ? [
          '',
          `Idle RSS once settled (PostgreSQL, left idle after ready, sampled every second): ${fixed(startup.settledRss.mb, 1)} MB after ${startup.settledRss.afterSeconds} s; samples ${startup.settledRss.samplesMb.map((n) => fixed(n)).join(', ')} MB.`,
        ]
      : []),
    '',
    ...(report.plans
      ? [
          '## Marketplace list plans on the full seed (EXPLAIN ANALYZE, first page)',
          '',
          '| list | plan |',
          '|---|---|',
          ...Object.entries(report.plans).map(([list, plan]) => `| ${list} | ${plan} |`),
          '',
        ]
      : []),
    ...(report.notes.length
      ? ['## Notes', '', ...report.notes.map((note) => `- ${note}`), '']
      : []),
  ].join('\n');
}

export function writeReport(dir: string, base: string, report: Report, summary: string[]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, `${base}.md`), markdown(report, summary));
}
