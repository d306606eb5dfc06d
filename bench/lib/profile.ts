import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Reads a V8 .cpuprofile (node --cpu-prof) into self and inclusive time per function and package. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  /** Microseconds on the monotonic clock, as process.hrtime() reads it. */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of samples where the thread was idle (waiting on I/O). */
  idlePercent: number;
  bySelf: Array<{ frame: string; ms: number; percent: number }>;
  byInclusive: Array<{ frame: string; ms: number; percent: number }>;
  byPackage: Array<{ pkg: string; ms: number; percent: number }>;
  /** Time with a library's (or an app file's) code anywhere on the stack: what removing it saves at most. */
  byPackageInclusive: Array<{ pkg: string; ms: number; percent: number }>;
}

/** node_modules/<pkg>, the app's own dist/ file, a node: module, or (program)/(gc)/(idle). */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `homefront: ${dist[1]}`;
  const bench = /\/bench\/(.+)$/.exec(url);
  if (bench) return `bench: ${bench[1]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

function frameOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? `${packageOf(url, functionName)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${file}`.trim();
}

/** The main thread's profile: the largest (tsx's loader thread writes a small one too). */
export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => path.join(dir, file));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

/** Now on the clock of V8's profiles (monotonic microseconds). */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Self and inclusive time of the samples taken within [fromUs, toUs] (monotonic microseconds):
 * the load only, without the start-up and shutdown around it.
 */
export function summariseProfile(
  file: string,
  window: { fromUs: number; toUs: number },
  top = 25,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  const packagesInclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let clock = profile.startTime;
  profile.samples.forEach((id, index) => {
    const deltaUs = profile.timeDeltas[index] ?? 0;
    clock += deltaUs;
    const ms = deltaUs / 1000;
    const node = byId.get(id);
    if (!node || clock < window.fromUs || clock > window.toUs) return;
    total += ms;
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      return;
    }
    const frame = frameOf(node);
    self.set(frame, (self.get(frame) ?? 0) + ms);
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const seen = new Set<string>();
    const seenPackages = new Set<string>();
    for (
      let current: number | undefined = id;
      current !== undefined;
      current = parent.get(current)
    ) {
      const ancestor = byId.get(current);
      if (!ancestor) break;
      const ancestorPkg = packageOf(ancestor.callFrame.url, ancestor.callFrame.functionName);
      if (!ancestorPkg.startsWith('node:') && !ancestorPkg.startsWith('(')) {
        seenPackages.add(ancestorPkg);
      }
      const key = frameOf(ancestor);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
    for (const name of seenPackages) {
      packagesInclusive.set(name, (packagesInclusive.get(name) ?? 0) + ms);
    }
  });

  const busy = total - idle;
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, ms]) => ({
        key,
        ms: Math.round(ms),
        percent: Math.round((ms / busy) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(total),
    idlePercent: Math.round((idle / total) * 1000) / 10,
    bySelf: ranked(self).map(({ key, ...rest }) => ({ frame: key, ...rest })),
    byInclusive: ranked(inclusive)
      .filter(({ key }) => !key.startsWith('(root)'))
      .map(({ key, ...rest }) => ({ frame: key, ...rest })),
    byPackage: ranked(packages).map(({ key, ...rest }) => ({ pkg: key, ...rest })),
    byPackageInclusive: ranked(packagesInclusive).map(({ key, ...rest }) => ({
      pkg: key,
      ...rest,
    })),
  };
}

export function profileMarkdown(title: string, summary: ProfileSummary): string {
  const lines = [
    `### ${title}`,
    '',
    `${summary.totalMs} ms sampled during the load, ${summary.idlePercent}% of it idle; percentages are of busy time.`,
    '',
    '| package | self ms | % |',
    '|---|---:|---:|',
    ...summary.byPackage.slice(0, 15).map((row) => `| ${row.pkg} | ${row.ms} | ${row.percent} |`),
    '',
    '| package anywhere on the stack (inclusive) | ms | % |',
    '|---|---:|---:|',
    ...summary.byPackageInclusive
      .slice(0, 20)
      .map((row) => `| ${row.pkg} | ${row.ms} | ${row.percent} |`),
    '',
    '| function (self) | ms | % |',
    '|---|---:|---:|',
    ...summary.bySelf
      .slice(0, 20)
      .map((row) => `| \`${row.frame}\` | ${row.ms} | ${row.percent} |`),
    '',
    '| function (inclusive) | ms | % |',
    '|---|---:|---:|',
    ...summary.byInclusive
      .slice(0, 30)
      .map((row) => `| \`${row.frame}\` | ${row.ms} | ${row.percent} |`),
    '',
  ];
  return lines.join('\n');
}
