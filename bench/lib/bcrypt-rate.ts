import os from 'node:os';
import { compare, hash } from '@node-rs/bcrypt';

export interface BcryptRate {
  cost: number;
  parallel: number;
  compares: number;
  seconds: number;
  perSecond: number;
}

/**
 * The ceiling for logins: raw bcrypt compares per second at `cost`, in this process, with
 * `parallel` compares in flight (@node-rs/bcrypt runs them on the libuv thread pool); by default
 * as many as there are cores.
 */
export async function bcryptCompareRate(
  cost: number,
  seconds: number,
  parallel = os.cpus().length,
): Promise<BcryptRate> {
  const stored = await hash('bench-password-prehash-stand-in-44-bytes-long', cost);
  const deadline = performance.now() + seconds * 1000;
  let compares = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < deadline) {
        await compare('bench-password-prehash-stand-in-44-bytes-long', stored);
        compares++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { cost, parallel, compares, seconds: elapsed, perSecond: compares / elapsed };
}
