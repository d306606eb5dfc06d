/** What a handler learns about the run it is asked to do. */
export interface JobContext {
  id: string;
  name: string;
  key: string | null;
  /** 1 on the first run, 2 on the first retry… */
  attempt: number;
  maxAttempts: number;
  /** The worker's clock when it claimed the job. */
  now: Date;
  /** Aborted when the app is closing: a long handler stops at its next safe point. */
  signal: AbortSignal;
}

/**
 * A named kind of job and its handler. Handlers must be idempotent: a job can run twice (a
 * worker that dies after the work but before recording it, or a run that outlives its lease),
 * so a second run must change nothing, e.g. a compare-and-set on the state it moves.
 */
export interface JobDefinition<P = Record<string, unknown>> {
  name: string;
  run(payload: P, job: JobContext): Promise<void>;
  /** Runs before the job is given up (state `failed`). Default 20. */
  maxAttempts?: number;
  /** After failed attempt n, retry in min(base·2^(n−1), max) seconds. Default 10 s … 1 h. */
  backoff?: { baseSeconds: number; maxSeconds: number };
  /** How long a claim holds the job; a run still going after that may be claimed again. Default 300 s. */
  leaseSeconds?: number;
  /** A periodic job: the worker keeps one run per interval of this many seconds scheduled. */
  everySeconds?: number;
}

export interface ScheduleOptions {
  /** When it becomes due; default now (the app's clock). */
  runAt?: Date;
  /** Idempotency: a second schedule with the same name and key adds nothing. */
  key?: string;
}
