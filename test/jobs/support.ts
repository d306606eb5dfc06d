import { eq } from 'drizzle-orm';
import { jobs } from '../../src/db/schema.js';
import type { JobContext, JobDefinition } from '../../src/jobs/types.js';
import type { TestContext } from '../helpers/app.js';

export function jobRows(t: TestContext, name: string) {
  return t.app.db.select().from(jobs).where(eq(jobs.name, name)).orderBy(jobs.runAt);
}

export interface Run {
  payload: Record<string, unknown>;
  job: JobContext;
  /** The app that ran it: tells two instances apart. */
  by: string;
}

/**
 * Defines a test job on the app whose handler records each run, then behaves as `behave` says
 * (default: succeeds). Several apps may define the same name into one shared list of runs.
 */
export function defineRecorder(
  t: TestContext,
  name: string,
  options: Omit<JobDefinition, 'name' | 'run'> & {
    runs?: Run[];
    by?: string;
    behave?: (run: Run) => Promise<void> | void;
  } = {},
): Run[] {
  const { runs = [], by = 'app', behave, ...definition } = options;
  t.app.jobs.define({
    name,
    ...definition,
    async run(payload, job) {
      const run = { payload, job, by };
      runs.push(run);
      await behave?.(run);
    },
  });
  return runs;
}

/** One sample of the Prometheus text, e.g. `jobs_queue_depth{name="x",state="due"} 3`. */
export async function metric(
  t: TestContext,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const text = (await t.app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((candidate) => {
    if (!candidate.startsWith(`${name}{`)) return false;
    return Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
