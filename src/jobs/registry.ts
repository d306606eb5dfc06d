import type { JobDefinition } from './types.js';

export const DEFAULT_MAX_ATTEMPTS = 20;
export const DEFAULT_BACKOFF = { baseSeconds: 10, maxSeconds: 3600 };
export const DEFAULT_LEASE_SECONDS = 300;

/** A definition with every default filled in. */
export type Job = Required<Omit<JobDefinition, 'everySeconds'>> &
  Pick<JobDefinition, 'everySeconds'>;

/** The named job handlers of one app. */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  // biome-ignore lint/suspicious/noExplicitAny: each definition has its own payload type
  define<P extends Record<string, any>>(definition: JobDefinition<P>): void {
    if (this.jobs.has(definition.name)) {
      throw new Error(`job "${definition.name}" is defined twice`);
    }
    this.jobs.set(definition.name, {
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoff: DEFAULT_BACKOFF,
      leaseSeconds: DEFAULT_LEASE_SECONDS,
      ...(definition as JobDefinition),
    });
  }

  get(name: string): Job {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job named "${name}" is defined`);
    return job;
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  all(): Job[] {
    return [...this.jobs.values()];
  }
}

/** Seconds to wait after failed attempt `attempt` (1-based). */
export function backoffSeconds(job: Pick<Job, 'backoff'>, attempt: number): number {
  const { baseSeconds, maxSeconds } = job.backoff;
  return Math.min(baseSeconds * 2 ** Math.max(0, attempt - 1), maxSeconds);
}

/** Periodic jobs: one key per interval, so every instance agrees on which run is which. */
export function periodKey(everySeconds: number, slot: number): string {
  return new Date(slot * everySeconds * 1000).toISOString();
}

export function periodSlot(everySeconds: number, now: Date): number {
  return Math.floor(now.getTime() / 1000 / everySeconds);
}
