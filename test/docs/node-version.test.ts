import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * One Node.js release line everywhere: CI's pinned release (.ci/node.sh), the container's base
 * image, what package.json accepts, what nvm/fnm pick, and the Node types the code is checked
 * against. A bump of one without the others fails here.
 */
const pinned = /^NODE_PIN_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(readFileSync('.ci/node.sh', 'utf8'));
const version = pinned?.slice(1, 4).join('.');
const major = pinned?.[1];
const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('the Node.js version', () => {
  it('is pinned to an exact release in .ci/node.sh', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Number(major)).toBeGreaterThanOrEqual(24);
  });

  it('is the Dockerfile base image, pinned to the same release', () => {
    const from = /^FROM (\S+) AS base$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(from).toBe(`node:${version}-bookworm-slim`);
  });

  it('is what package.json engines, .nvmrc and @types/node ask for', () => {
    expect(packageJson.engines.node).toBe(`>=${major}`);
    expect(readFileSync('.nvmrc', 'utf8').trim()).toBe(major);
    expect(packageJson.devDependencies['@types/node']?.split('.')[0]).toBe(major);
  });
});
