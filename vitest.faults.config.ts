import { defineConfig } from 'vitest/config';

/**
 * Fault tests: real processes (private PostgreSQL, Redis, SMTP and the server itself) on
 * loopback. No globalSetup from the main suite; one file at a time to keep a 2-core machine calm.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    sequence: { concurrent: false },
  },
});
