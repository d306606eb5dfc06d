import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ScenarioResult } from './load.js';
import { metaLine, type RunMeta, settingsLines } from './meta.js';
import { median } from './stats.js';

/** One Node.js binary the production build ran under. */
export interface Runtime {
  /** `process.version` of the binary, e.g. v24.22.3. */
  version: string;
  binary: string;
}

/** The same scenario measured on both runtimes, interleaved. */
export interface Pair {
  scenario: string;
  results: [ScenarioResult, ScenarioResult];
}

/** Spawn to /health/ready 200 and RSS a second later, per runtime (index as in `runtimes`). */
export interface StartupPair {
  start: string;
  readyMs: [number[], number[]];
  idleRssMb: [number[], number[]];
}

export interface CompareReport {
  /** meta.node is the bench process's own (the load generator's). */
  meta: RunMeta;
  runtimes: [Runtime, Runtime];
  seed?: { counts: Record<string, number>; seconds: number };
  pairs: Pair[];
  startups: StartupPair[];
  /** RSS of an idle server on PostgreSQL once V8 has given back what start-up grew (per runtime). */
  settledRss: { mb: number; afterSeconds: number; samplesMb: number[] }[];
  notes: string[];
}

const round = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });
const change = (a: number, b: number) => {
  const percent = (a / b - 1) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
};
const ms = (value: number | undefined) => (value === undefined ? '–' : `${value}`);

/** Geometric mean of the throughput ratios first/second over the scenarios measured on both. */
export function throughputRatio(pairs: Pair[]): number | undefined {
  const ratios = pairs
    .map(({ results: [a, b] }) => (a.rps && b.rps ? a.rps / b.rps : undefined))
    .filter((ratio): ratio is number => ratio !== undefined);
  if (!ratios.length) return undefined;
  return Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length);
}

function pairRow({ scenario, results: [a, b] }: Pair): string {
  if (a.status !== 'ok' || b.status !== 'ok' || !a.rps || !b.rps) {
    return `| ${scenario} | ${a.note ?? a.status} | ${b.note ?? b.status} | | | | | |`;
  }
  const problems = (s: ScenarioResult) => (s.errors ?? 0) + (s.non2xx ?? 0);
  return `| ${scenario} | ${round(a.rps)} | ${round(b.rps)} | ${change(a.rps, b.rps)} | ${ms(a.p50)} / ${ms(b.p50)} | ${ms(a.p99)} / ${ms(b.p99)} | ${round(a.rssMb ?? 0)} / ${round(b.rssMb ?? 0)} | ${problems(a)} / ${problems(b)} |`;
}

function startupRow({ start, readyMs, idleRssMb }: StartupPair): string {
  const [a, b] = readyMs.map((samples) => median(samples) ?? 0) as [number, number];
  const [ra, rb] = idleRssMb.map((samples) => median(samples) ?? 0) as [number, number];
  return `| ${start} | ${round(a)} | ${round(b)} | ${change(a, b)} | ${round(ra, 1)} / ${round(rb, 1)} | ${readyMs[0].map((n) => round(n)).join(', ')} / ${readyMs[1].map((n) => round(n)).join(', ')} |`;
}

export function compareMarkdown(report: CompareReport): string {
  const { meta, runtimes } = report;
  const [a, b] = runtimes.map((runtime) => runtime.version) as [string, string];
  const ratio = throughputRatio(report.pairs);
  return [
    `# Node.js ${a} vs ${b}${meta.quick ? ' (quick run)' : ''}`,
    '',
    metaLine(meta, `bench on Node ${meta.node}`),
    '',
    `The same production build (\`dist/\`) under two Node.js binaries at once: ${a} (\`${runtimes[0].binary}\`) and ${b} (\`${runtimes[1].binary}\`), each with its own floor server, on one seeded PostgreSQL database with the same tokens. Every scenario ran on both in turn, run after run (${a}, ${b}, ${a}, ${b}…), so that the machine's load lands on both alike. The load generator (autocannon) ran on Node.js ${meta.node}.`,
    '',
    ...settingsLines(meta, report.seed),
    '',
    `| scenario | req/s ${a} | req/s ${b} | change | p50 ms | p99 ms | peak RSS MB | errors + non-2xx |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...report.pairs.map(pairRow),
    '',
    `requests/s: median of the measured runs; latencies: median of the runs’ percentiles (1 ms resolution); pairs are ${a} / ${b}. Every run is in the JSON file next to this one.`,
    '',
    ...(ratio === undefined
      ? []
      : [
          `Throughput over all scenarios (geometric mean of the ratios): ${a} does ${ratio.toFixed(3)}× the requests/s of ${b} (${change(ratio, 1)}).`,
          '',
        ]),
    '## Startup to ready',
    '',
    `| start | ms ${a} | ms ${b} | change | idle RSS MB | samples |`,
    '|---|---:|---:|---:|---:|---|',
    ...report.startups.map(startupRow),
    '',
    'Medians; idle RSS is a second after ready, before any load.',
    '',
    ...report.settledRss.map(
      (settled, i) =>
        `Idle RSS once settled (PostgreSQL, left idle after ready, sampled every second) on ${runtimes[i]?.version}: ${round(settled.mb, 1)} MB after ${settled.afterSeconds} s; samples ${settled.samplesMb.map((n) => round(n)).join(', ')} MB.`,
    ),
    '',
    ...(report.notes.length
      ? ['## Notes', '', ...report.notes.map((note) => `- ${note}`), '']
      : []),
  ].join('\n');
}

export function writeCompareReport(dir: string, base: string, report: CompareReport) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, `${base}.md`), compareMarkdown(report));
}
