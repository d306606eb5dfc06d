import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

/**
 * Fixed-window counters keyed by string: the login throttle per email and the mail-flow limits.
 * In Redis when REDIS_URL is set (shared by every instance), else in this process.
 *
 * There is deliberately no way to read a count without adding to it: a limit is enforced by
 * taking a slot first (`hit`) and checking the count it returns, never by reading and then
 * acting, which concurrent requests would all pass at once.
 */
export interface CounterStore {
  /** Atomically adds one to `key`; the count includes this hit, and the ms until the window resets. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  /** Gives back one earlier hit of the current window (never below zero, never reviving a window). */
  release(key: string): Promise<void>;
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

  async release(key: string) {
    const entry = this.counters.get(key);
    if (entry && entry.resetAt > this.now() && entry.count > 0) entry.count -= 1;
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
 * Each operation is one Lua script (EVALSHA): atomic in Redis and a single command on the wire.
 * A MULTI of INCR, PEXPIRE NX and PTTL measured a third of the throughput (bench/counters.ts).
 * The TTL is set with the first hit of a window, and restored if the key ever lost it.
 */
const HIT_SCRIPT = `
local count = redis.call('incr', KEYS[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then
  redis.call('pexpire', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

/** DECR only a live key above zero: a plain DECR would recreate an expired key without a TTL. */
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('get', KEYS[1]) or '0')
if count > 0 then return redis.call('decr', KEYS[1]) end
return 0`;

type ScriptedRedis = Redis & {
  homefrontCounterHit(key: string, windowMs: number): Promise<[number, number]>;
  homefrontCounterRelease(key: string): Promise<number>;
};

/**
 * Redis counters, shared by every instance. When Redis cannot be reached the store fails open
 * (count 0, logged): an outage of the limiter must not become an outage of the API.
 */
export class RedisCounterStore implements CounterStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly logger: FastifyBaseLogger,
    private readonly prefix = 'homefront:counter:',
  ) {
    redis.defineCommand('homefrontCounterHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    redis.defineCommand('homefrontCounterRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.redis = redis as ScriptedRedis;
  }

  async hit(key: string, windowMs: number) {
    try {
      const [count, ttl] = await this.redis.homefrontCounterHit(this.prefix + key, windowMs);
      return { count: Number(count), resetMs: Number(ttl) > 0 ? Number(ttl) : windowMs };
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit store unavailable; failing open');
      return { count: 0, resetMs: 0 };
    }
  }

  async release(key: string) {
    try {
      await this.redis.homefrontCounterRelease(this.prefix + key);
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit store unavailable; could not release a hit');
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
