import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { BenchOptions } from './options.js';

/**
 * What every bench run records about itself and the machine, and how it says so: shared by
 * `npm run bench` (run.ts) and `npm run bench:node` (node-compare.ts).
 */

export interface RunMeta {
  date: string;
  commit: string;
  dirty: boolean;
  /** The bench process itself (the load generator). */
  node: string;
  cores: number;
  cpu: string;
  memoryGb: number;
  /** os.loadavg() at start and end; the 1-minute figure sampled every 5 s in between. */
  loadAverage: { start: number[]; end?: number[]; oneMinuteMean?: number; oneMinuteMax?: number };
  quick: boolean;
  settings: Record<string, unknown>;
}

const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

export function runMeta(options: BenchOptions, extra: Record<string, unknown> = {}): RunMeta {
  return {
    date: new Date().toISOString(),
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: { start: os.loadavg() },
    quick: options.quick,
    settings: {
      connections: options.connections,
      loginConnections: options.loginConnections,
      warmupSeconds: options.warmupSeconds,
      runSeconds: options.runSeconds,
      runs: options.runs,
      loginRunSeconds: options.loginRunSeconds,
      loginRuns: options.loginRuns,
      ...extra,
      bcryptCost: 12,
    },
  };
}

/**
 * Samples the 1-minute load average every 5 s until `stop`, which fills meta.loadAverage and
 * returns a note when the machine was busier than its cores (undefined otherwise).
 */
export function sampleLoad(meta: RunMeta) {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(os.loadavg()[0] ?? 0), 5_000);
  return {
    stop(advice: string): string | undefined {
      clearInterval(timer);
      const load = meta.loadAverage;
      load.end = os.loadavg();
      if (samples.length) {
        load.oneMinuteMean =
          Math.round((samples.reduce((sum, n) => sum + n, 0) / samples.length) * 10) / 10;
        load.oneMinuteMax = Math.max(...samples);
      }
      const busiest = Math.max(load.start[0] ?? 0, load.end[0] ?? 0, ...samples);
      if (busiest <= meta.cores) return undefined;
      return `The machine was busy with other work (1-minute load average up to ${busiest.toFixed(1)} on ${meta.cores} cores): absolute figures are low and noisy; ${advice}`;
    },
  };
}

/** The line under a report's title: when, what, on which machine, under which load. */
export function metaLine(meta: RunMeta, runtime = `Node ${meta.node}`): string {
  const load = meta.loadAverage;
  return `${meta.date} · commit \`${meta.commit}\`${meta.dirty ? ' (with uncommitted changes)' : ''} · ${runtime} · ${meta.cores} cores (${meta.cpu}) · ${meta.memoryGb} GB · load average at start ${load.start.map((n) => n.toFixed(1)).join(' / ')}${load.end ? `, at end ${load.end.map((n) => n.toFixed(1)).join(' / ')}` : ''}${load.oneMinuteMax === undefined ? '' : ` (1-minute load during the run: mean ${load.oneMinuteMean?.toFixed(1)}, max ${load.oneMinuteMax.toFixed(1)})`}`;
}

/** The settings and the seed, as the reports print them. */
export function settingsLines(
  meta: RunMeta,
  seed: { counts: Record<string, number>; seconds: number } | undefined,
): string[] {
  return [
    `Settings: ${Object.entries(meta.settings)
      .map(([key, value]) => `${key} ${JSON.stringify(value)}`)
      .join(', ')}.`,
    seed
      ? `Seed: ${Object.entries(seed.counts)
          .map(([key, value]) => `${value.toLocaleString('en-US')} ${key}`)
          .join(', ')} in ${seed.seconds.toFixed(1)} s.`
      : '',
  ];
}
