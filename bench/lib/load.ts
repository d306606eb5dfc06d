import autocannon, { type Client, type Result } from 'autocannon';
import { rssSampler, type Server } from './children.js';
import { cpuMeter } from './cpu.js';
import { median as medianOf } from './stats.js';

/** One HTTP load: what to send, to which server, over how many connections. */
export interface Target {
  name: string;
  server: Server;
  method?: 'GET' | 'POST';
  /**
   * What the connections send, handed out round-robin, one variant per connection for its whole
   * life (e.g. one user's bearer token, or one user's login body).
   */
  variants: Variant[];
  connections: number;
  /** autocannon's per-request timeout (default 10 s); slow logins on a busy machine need more. */
  timeoutSeconds?: number;
  /**
   * After each run, send one more request and wait for it: requests that autocannon abandoned at
   * the end of the run (slow logins queued for bcrypt) are then done, and do not eat into the next
   * run's time.
   */
  drain?: boolean;
  /** Set when the scenario cannot run; it is reported as skipped with this note. */
  skip?: string;
}

export interface Variant {
  path: string;
  headers?: Record<string, string>;
  /** JSON. */
  body?: string;
}

export interface Measurement {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  rssPeakMb: number;
  /** CPU µs per answered request: the server's (every process of it) and PostgreSQL's. */
  cpuUs: number;
  pgCpuUs: number;
}

export interface ScenarioResult {
  name: string;
  method: string;
  path: string;
  connections: number;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  /** Median over the measured runs (a busy machine makes single runs swing widely). */
  rps?: number;
  rpsRuns?: number[];
  /** Latency percentiles in ms: the median over the runs. */
  p50?: number;
  p90?: number;
  p99?: number;
  /** Socket errors and timeouts, and non-2xx answers, summed over the runs. */
  errors?: number;
  non2xx?: number;
  /** Answers other than 2xx by status code, summed over the runs. */
  otherStatuses?: Record<string, number>;
  /** The server's peak resident set size during the measured runs (all its processes). */
  rssMb?: number;
  /**
   * CPU µs per answered request, median over the runs: the server's own (all its processes) and
   * PostgreSQL's (the backends of the bench database), from /proc.
   */
  cpuUs?: number;
  pgCpuUs?: number;
}

function variant(target: Target, index: number) {
  const chosen = target.variants[index % target.variants.length]!;
  const headers = chosen.body
    ? { 'content-type': 'application/json', ...chosen.headers }
    : { ...chosen.headers };
  return { method: target.method ?? 'GET', path: chosen.path, headers, body: chosen.body };
}

/** One autocannon run; the server's RSS is sampled all along. */
export async function measure(target: Target, seconds: number): Promise<Measurement> {
  let next = 0;
  const sampler = rssSampler(target.server.pid);
  const meter = await cpuMeter(target.server.pid);
  let result: Result;
  let rssPeakMb: number;
  let cpu: { server: number; postgres: number };
  try {
    result = await autocannon({
      url: target.server.url,
      connections: target.connections,
      duration: seconds,
      timeout: target.timeoutSeconds ?? 10,
      setupClient: (client: Client) => {
        const { body, ...request } = variant(target, next++);
        client.setRequests([{ ...request, ...(body !== undefined && { body }) }]);
      },
    });
  } finally {
    rssPeakMb = sampler.stop();
    cpu = await meter.stop();
  }
  const answered = Math.max(1, result.requests.total);
  if (target.drain) await probe(target);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
    ),
    rssPeakMb,
    cpuUs: (cpu.server * 1e6) / answered,
    pgCpuUs: (cpu.postgres * 1e6) / answered,
  };
}

/**
 * One request as the load will send it. A 404 "No route for ..." means the route is not there
 * (yet): the scenario is skipped, not failed.
 */
export async function probe(target: Target): Promise<Pick<ScenarioResult, 'status' | 'note'>> {
  try {
    const { method, path, headers, body } = variant(target, 0);
    const response = await fetch(target.server.url + path, {
      method,
      headers,
      ...(body !== undefined && { body }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.ok) return { status: 'ok' };
    if (response.status === 404 && text.includes('No route for')) {
      return { status: 'skipped', note: 'skipped: route missing' };
    }
    return { status: 'failed', note: `probe answered ${response.status}: ${text.slice(0, 200)}` };
  } catch (error) {
    return { status: 'failed', note: `probe failed: ${(error as Error).message}` };
  }
}

const median = (values: number[]) => medianOf(values) ?? 0;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function describe(target: Target) {
  const path = target.variants[0]?.path ?? '';
  return {
    name: target.name,
    method: target.method ?? 'GET',
    path: path.length > 80 ? `${path.slice(0, 77)}...` : path,
    connections: target.connections,
  };
}

function otherStatuses(runs: Measurement[]) {
  const other: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, count] of Object.entries(run.statuses)) {
      if (!code.startsWith('2')) other[code] = (other[code] ?? 0) + count;
    }
  }
  return Object.keys(other).length ? { otherStatuses: other } : {};
}

export function summarise(target: Target, runs: Measurement[]): ScenarioResult {
  if (runs.every((run) => run.rps === 0)) {
    return {
      ...describe(target),
      status: 'failed',
      note: `failed: no request completed within a ${runs.length}-run measurement (server saturated?)`,
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
    };
  }
  return {
    ...describe(target),
    status: 'ok',
    rps: round(median(runs.map((run) => run.rps))),
    rpsRuns: runs.map((run) => round(run.rps)),
    p50: median(runs.map((run) => run.p50)),
    p90: median(runs.map((run) => run.p90)),
    p99: median(runs.map((run) => run.p99)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    ...otherStatuses(runs),
    rssMb: round(Math.max(...runs.map((run) => run.rssPeakMb))),
    cpuUs: round(median(runs.map((run) => run.cpuUs))),
    pgCpuUs: round(median(runs.map((run) => run.pgCpuUs))),
  };
}

export interface Timing {
  warmupSeconds: number;
  runSeconds: number;
  runs: number;
}

/**
 * Warms every target up, then measures them in turn, run after run (interleaved), so that a
 * slow patch of a busy machine lands on all of them alike instead of on one.
 */
export async function runGroup(targets: Target[], timing: Timing): Promise<ScenarioResult[]> {
  const live: Target[] = [];
  const results = new Map<Target, ScenarioResult>();
  for (const target of targets) {
    const outcome = target.skip
      ? { status: 'skipped' as const, note: target.skip }
      : await probe(target);
    if (outcome.status === 'ok') live.push(target);
    else {
      results.set(target, { ...describe(target), ...outcome });
      console.log(`  ${target.name}: ${outcome.note}`);
    }
  }
  for (const target of live) await measure(target, timing.warmupSeconds);
  const measured = new Map<Target, Measurement[]>(live.map((target) => [target, []]));
  for (let run = 0; run < timing.runs; run++) {
    for (const target of live) {
      const measurement = await measure(target, timing.runSeconds);
      measured.get(target)!.push(measurement);
      console.log(
        `  ${target.name} run ${run + 1}/${timing.runs}: ${Math.round(measurement.rps)} req/s, p99 ${measurement.p99} ms, ${Math.round(measurement.cpuUs)} + ${Math.round(measurement.pgCpuUs)} µs CPU/req`,
      );
    }
  }
  for (const [target, runs] of measured) results.set(target, summarise(target, runs));
  return targets.map((target) => results.get(target)!);
}

/**
 * `measured` and `background` loaded at the same time, run after run (e.g. GET /users/me while
 * a login flood runs); no warm-up, both have had theirs.
 */
export async function runTogether(
  measured: Target,
  background: Target,
  timing: Timing,
): Promise<[ScenarioResult, ScenarioResult]> {
  const a: Measurement[] = [];
  const b: Measurement[] = [];
  for (let run = 0; run < timing.runs; run++) {
    const [first, second] = await Promise.all([
      measure(measured, timing.runSeconds),
      measure(background, timing.runSeconds),
    ]);
    a.push(first);
    b.push(second);
    console.log(
      `  ${measured.name} run ${run + 1}/${timing.runs}: ${Math.round(first.rps)} req/s, p99 ${first.p99} ms; ${background.name}: ${Math.round(second.rps)} req/s`,
    );
  }
  return [summarise(measured, a), summarise(background, b)];
}
