import type { FastifyBaseLogger } from 'fastify';
import type { CounterStore } from '../../lib/counter-store.js';
import { rateLimited } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';

/** One reserved sign-in attempt, settled once the password has been compared. */
export interface LoginAttempt {
  /** The password was right: the account's count starts again. */
  succeeded(): Promise<void>;
  /** The attempt ended before any password was judged (an outage, an overload): not a failure. */
  abandoned(): Promise<void>;
}

/**
 * Failed sign-ins per normalised email and window. Each attempt takes its slot atomically
 * BEFORE its password is compared, so concurrent guesses cannot all pass a check made while none
 * of them had been counted: at most `limit` of them reach bcrypt per window, whatever number
 * arrive at once and from however many addresses. A wrong password keeps its slot.
 */
export class LoginThrottle {
  constructor(
    private readonly counters: CounterStore,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly logger: FastifyBaseLogger,
    /** `login-failures` (keyed by email) or `mfa-failures` (wrong codes, keyed by user id). */
    private readonly kind = 'login-failures',
  ) {}

  async reserve(subject: string, context: RequestContext): Promise<LoginAttempt> {
    const key = `${this.kind}:${subject}`;
    const { count, resetMs } = await this.counters.hit(key, this.windowMs);
    if (count > this.limit) {
      // The refused attempt gives its slot back, so the count stays the number of real failures.
      await this.counters.release(key);
      this.logger.warn(
        {
          event: 'auth.login_throttled',
          kind: this.kind,
          ip: context.ip,
          reqId: context.requestId,
        },
        'sign-in throttled for this account',
      );
      throw rateLimited(resetMs, 'Too many failed sign-ins for this account; try again later.');
    }
    return {
      succeeded: () => this.counters.reset(key),
      abandoned: () => this.counters.release(key),
    };
  }
}
