import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string };

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t.close());

describe('one version, read from package.json', () => {
  it('is the OpenAPI document info.version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.json().info.version).toBe(pkg.version);
  });

  it('is what /health/live and /health/ready report', async () => {
    for (const url of ['/health/live', '/health/ready']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.json(), url).toMatchObject({ status: 'ok', version: pkg.version });
    }
  });

  it('has its section in the CHANGELOG (Keep a Changelog)', () => {
    const changelog = read('CHANGELOG.md');
    expect(changelog).toMatch(/^# Changelog/);
    expect(changelog).toContain('## [Unreleased]');
    expect(changelog).toMatch(
      new RegExp(`^## \\[${pkg.version.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'),
    );
  });
});

describe('the license', () => {
  it('is MIT in package.json and in LICENSE', () => {
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n/);
  });
});
