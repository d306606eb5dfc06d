import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium; playwright-core drives it (it cannot download a browser of its own here). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser tests can run. On a developer's machine without Chromium they skip and
 * say so; in CI (CI set, as .ci/run does) a missing browser fails the run instead: a CI run that
 * skipped the browser tests would be green without having checked anything.
 */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const problem = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI) throw new Error(`${problem}: CI must run the browser tests, not skip them`);
  console.warn(`skipping the browser test: ${problem}`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
