import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const source = readFileSync('src/config.ts', 'utf8');
const example = readFileSync('.env.example', 'utf8');

/** Every name config.ts reads, taken from its calls such as integer(env, 'PORT', …). */
const variablesRead = [...source.matchAll(/\(env, '([A-Z_]+)'/g)].map((match) => match[1]);
/** Every name .env.example mentions, set or commented out. */
const documented = new Set(
  [...example.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]),
);

describe('.env.example', () => {
  it('documents every variable the service reads', () => {
    expect(variablesRead.length).toBeGreaterThan(20);
    expect(variablesRead.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('mentions no variable the service does not read', () => {
    const read = new Set(variablesRead);
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });

  it('is itself a valid configuration', () => {
    const values = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((match) => [match[1], match[2]]),
    );
    expect(() => loadConfig({ ...values, NODE_ENV: 'test' })).not.toThrow();
  });
});
