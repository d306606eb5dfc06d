/**
 * `npx tsx bench/counters.ts`: the login throttle's counter store, hand-written
 * (src/lib/counter-store.ts) against rate-limiter-flexible, in memory and on Redis.
 *
 * rate-limiter-flexible is not a dependency; install it without saving to run the comparison:
 *   npm install --no-save rate-limiter-flexible@11.4.0
 * REDIS_URL (default redis://127.0.0.1:6379) is used with a key prefix of this run's own.
 *
 * Measured: operations per second of the throttle's hot operation (count one attempt and read
 * the count back), one at a time and 64 in flight, on a hot key and spread over 10,000 keys;
 * heap per live key after 100,000 keys. Results go to bench/results/counters.md by hand.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { MemoryCounterStore, RedisCounterStore } from '../src/lib/counter-store.js';

type Hit = (key: string) => Promise<number>;

interface Flexible {
  RateLimiterMemory: new (options: Record<string, unknown>) => FlexibleLimiter;
  RateLimiterRedis: new (options: Record<string, unknown>) => FlexibleLimiter;
}
interface FlexibleLimiter {
  consume(key: string, points?: number): Promise<{ consumedPoints: number }>;
}

const WINDOW_S = 60;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function loadFlexible(): Promise<Flexible | undefined> {
  const name = 'rate-limiter-flexible';
  try {
    return (await import(name)) as Flexible;
  } catch {
    return undefined;
  }
}

/** Runs `hit` for SECONDS with `parallel` calls in flight; returns operations per second. */
async function rate(hit: Hit, keys: number, parallel: number, seconds = SECONDS): Promise<number> {
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async (_, lane) => {
      let i = lane;
      while (performance.now() < deadline) {
        await hit(`k${i % keys}`);
        i += parallel;
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Run with --expose-gc for steady figures. */
async function heapPerKey(fill: (key: string) => Promise<unknown>): Promise<number> {
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 100_000; i++) await fill(`m${i}`);
  global.gc?.();
  return (process.memoryUsage().heapUsed - before) / 100_000;
}

async function measure(label: string, hit: Hit) {
  const row: Record<string, number | string> = { store: label };
  await rate(hit, 100, 8, 1); // warm-up: JIT, connection, script cache
  for (const [name, keys, parallel] of [
    ['hot key, 1 in flight', 1, 1],
    ['hot key, 64 in flight', 1, 64],
    ['10k keys, 64 in flight', 10_000, 64],
  ] as const) {
    row[name] = Math.round(await rate(hit, keys, parallel));
  }
  return row;
}

async function main() {
  const flexible = await loadFlexible();
  const logger = pino({ level: 'silent' });
  const rows: Array<Record<string, number | string>> = [];
  const windowMs = WINDOW_S * 1000;

  const memory = new MemoryCounterStore();
  rows.push(
    await measure('hand-written, memory', async (key) => (await memory.hit(key, windowMs)).count),
  );
  const flexibleMemory = flexible
    ? new flexible.RateLimiterMemory({ points: 1e9, duration: WINDOW_S })
    : undefined;
  if (flexibleMemory) {
    rows.push(
      await measure(
        'rate-limiter-flexible, memory',
        async (key) => (await flexibleMemory.consume(key)).consumedPoints,
      ),
    );
  }

  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    enableOfflineQueue: true,
  });
  const prefix = `bench-${randomBytes(4).toString('hex')}:`;
  try {
    const store = new RedisCounterStore(redis, logger, `${prefix}own:`);
    rows.push(
      await measure('hand-written, Redis', async (key) => (await store.hit(key, windowMs)).count),
    );
    if (flexible) {
      const limiter = new flexible.RateLimiterRedis({
        storeClient: redis,
        points: 1e9,
        duration: WINDOW_S,
        keyPrefix: `${prefix}flexible`,
      });
      rows.push(
        await measure(
          'rate-limiter-flexible, Redis',
          async (key) => (await limiter.consume(key)).consumedPoints,
        ),
      );
    }
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
  }

  const heap: Record<string, number> = {};
  const ownStore = new MemoryCounterStore();
  heap['hand-written, memory'] = await heapPerKey((key) => ownStore.hit(key, windowMs));
  if (flexible) {
    const limiter = new flexible.RateLimiterMemory({ points: 1e9, duration: WINDOW_S });
    heap['rate-limiter-flexible, memory'] = await heapPerKey((key) => limiter.consume(key));
  }

  console.log(`operations per second (${SECONDS} s each; node ${process.version}):`);
  console.table(rows);
  console.log('heap bytes per live key (100,000 keys):');
  console.table(
    Object.entries(heap).map(([store, bytes]) => ({ store, bytes: Math.round(bytes) })),
  );
  if (!flexible) {
    console.log(
      'rate-limiter-flexible is not installed: npm install --no-save rate-limiter-flexible@11.4.0',
    );
  }
}

await main();
