import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coreTargets, type ScenarioContext } from '../scenarios.js';
import { stop } from './children.js';
import { measure } from './load.js';
import {
  mainThreadProfile,
  monotonicMicros,
  profileMarkdown,
  summariseProfile,
} from './profile.js';
import { scratch, startApp, startBenchServer } from './servers.js';

/**
 * `--profile`: GET /users/me on the app and GET /users/{id} on the floor, each in a fresh process
 * started with --cpu-prof, warmed up then loaded; and one start-up to ready. Only the samples
 * taken during the measured load (or the start-up) are counted.
 */
/** Raw profiles (several MB) stay outside the repository, for Chrome DevTools or speedscope. */
export const RAW_PROFILES = path.join(os.tmpdir(), 'homefront-bench-profiles');

function keep(file: string, name: string): string {
  mkdirSync(RAW_PROFILES, { recursive: true });
  copyFileSync(file, path.join(RAW_PROFILES, `${name}.cpuprofile`));
  return file;
}

export async function profileRun(
  context: ScenarioContext,
  dbUrl: string,
  seconds: { warmup: number; measured: number },
): Promise<string[]> {
  const sections: string[] = [];
  const targets = coreTargets(context);
  for (const [label, index, launch] of [
    ['Homefront GET /users/me', 1, 'app'],
    ['floor GET /users/{id}', 2, 'floor'],
  ] as const) {
    const dir = mkdtempSync(path.join(scratch(), `prof-${launch}-`));
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const started =
      launch === 'app'
        ? await startApp('profile-app', dbUrl, {}, nodeArgs)
        : await startBenchServer(
            'profile-floor',
            'floor-server.ts',
            { DATABASE_URL: dbUrl },
            nodeArgs,
          );
    const target = { ...targets[index]!, server: started.server };
    await measure(target, seconds.warmup);
    const fromUs = monotonicMicros();
    const result = await measure(target, seconds.measured);
    const toUs = monotonicMicros();
    await stop(started.server);
    const summary = summariseProfile(keep(mainThreadProfile(dir), launch), { fromUs, toUs });
    sections.push(
      profileMarkdown(`${label}: ${Math.round(result.rps)} req/s under the profiler`, summary),
    );
  }
  // Start-up: everything from spawn to the first /health/ready 200.
  const dir = mkdtempSync(path.join(scratch(), 'prof-startup-'));
  const fromUs = monotonicMicros();
  const started = await startApp('profile-startup', dbUrl, {}, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  const toUs = fromUs + Math.round(started.readyMs * 1000);
  await stop(started.server);
  const summary = summariseProfile(keep(mainThreadProfile(dir), 'startup'), { fromUs, toUs });
  sections.push(
    profileMarkdown(
      `Start-up to ready on PostgreSQL: ${Math.round(started.readyMs)} ms under the profiler`,
      summary,
    ),
  );
  return sections;
}
