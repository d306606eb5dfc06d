import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config.js';

const example = readFileSync('.env.example', 'utf8');

/** Every name the service reads: the configuration schema declares each one. */
const variablesRead = Object.keys(EnvSchema.properties);
/** Every name .env.example mentions, set or commented out. */
const documented = new Set(
  [...example.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1] ?? ''),
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
