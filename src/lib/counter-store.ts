import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

/**
 * Fixed-window counters keyed by string: the login throttle per email and the mail-flow limits.
 * In Redis when REDIS_URL is set (shared by every instance), else in this process.
 */
export interface CounterStore {
  /** Adds one to `key` and returns the count in the current window and the ms until it resets. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  peek(key: string): Promise<{ count: number; resetMs: number }>;
  reset(key: string): Promise<void>;
}

const MAX_KEYS = 100_000;

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async hit(key: string, windowMs: number) {
    const now = this.now();
    let entry = this.counters.get(key);
    if (!entry || entry.resetAt <= now) {
      if (this.counters.size >= MAX_KEYS) this.evictExpired(now);
      entry = { count: 0, resetAt: now + windowMs };
      this.counters.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, resetMs: entry.resetAt - now };
  }

  async peek(key: string) {
    const now = this.now();
    const entry = this.counters.get(key);
    if (!entry || entry.resetAt <= now) return { count: 0, resetMs: 0 };
    return { count: entry.count, resetMs: entry.resetAt - now };
  }

  async reset(key: string) {
    this.counters.delete(key);
  }

  private evictExpired(now: number) {
    for (const [key, entry] of this.counters) if (entry.resetAt <= now) this.counters.delete(key);
    // Still full of live keys: drop the oldest rather than grow without bound.
    if (this.counters.size >= MAX_KEYS) {
      const oldest = this.counters.keys().next().value;
      if (oldest !== undefined) this.counters.delete(oldest);
    }
  }
}

/**
 * Redis counters. When Redis cannot be reached the store fails open (count 0, logged): an
 * outage of the limiter must not become an outage of the API.
 */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly logger: FastifyBaseLogger,
    private readonly prefix = 'homefront:counter:',
  ) {}

  async hit(key: string, windowMs: number) {
    try {
      const result = await this.redis
        .multi()
        .incr(this.prefix + key)
        .pexpire(this.prefix + key, windowMs, 'NX')
        .pttl(this.prefix + key)
        .exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      const ttl = Number(result?.[2]?.[1] ?? windowMs);
      return { count, resetMs: ttl > 0 ? ttl : windowMs };
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit store unavailable; failing open');
      return { count: 0, resetMs: 0 };
    }
  }

  async peek(key: string) {
    try {
      const [count, ttl] = await Promise.all([
        this.redis.get(this.prefix + key),
        this.redis.pttl(this.prefix + key),
      ]);
      return { count: Number(count ?? 0), resetMs: ttl > 0 ? ttl : 0 };
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit store unavailable; failing open');
      return { count: 0, resetMs: 0 };
    }
  }

  async reset(key: string) {
    try {
      await this.redis.del(this.prefix + key);
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit store unavailable; could not reset a counter');
    }
  }
}
