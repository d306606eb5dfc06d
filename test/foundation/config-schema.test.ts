import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { MailSealer } from '../../src/mail/outbox.js';

const SECRET = 'a-secret-that-is-at-least-32-bytes-long!!';
const PEPPER = 'a-pepper-that-is-at-least-32-bytes-long!!';
const SEAL = 'a-seal-key-that-is-at-least-32-bytes-long!!';
const tempDir = () => mkdtempSync(path.join(tmpdir(), 'homefront-config-'));

function refusedVariable(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variable;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig: the whole configuration is frozen', () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    CORS_ORIGINS: 'https://a.example',
    TRUST_PROXY: '10.0.0.1',
  });

  it.each(['rateLimit', 'retention', 'corsOrigins', 'trustProxy'] as const)('%s too', (key) => {
    expect(Object.isFrozen(config[key])).toBe(true);
  });

  it('refuses a change to a nested setting', () => {
    expect(() => {
      (config.rateLimit as { authMax: number }).authMax = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig: MAIL_SEAL_SECRET', () => {
  it('is its own key, apart from JWT_SECRET', () => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, MAIL_SEAL_SECRET: SEAL });
    expect(config.mailSealSecret).toBe(SEAL);
    expect(config.jwtSecret).toBe(SECRET);
  });

  it('keeps queued mail readable when JWT_SECRET rotates', () => {
    const before = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, MAIL_SEAL_SECRET: SEAL });
    const after = loadConfig({ NODE_ENV: 'test', JWT_SECRET: PEPPER, MAIL_SEAL_SECRET: SEAL });
    const sealed = new MailSealer(before.mailSealSecret).seal({
      subject: 's',
      text: 't',
      html: 'h',
    });
    expect(new MailSealer(after.mailSealSecret).open(sealed)).toEqual({
      subject: 's',
      text: 't',
      html: 'h',
    });
  });

  it('refuses one shorter than 32 bytes', () => {
    expect(refusedVariable({ NODE_ENV: 'test', MAIL_SEAL_SECRET: 'short' })).toBe(
      'MAIL_SEAL_SECRET',
    );
  });

  it('is generated once in development and kept (mode 0600) under DATA_DIR', () => {
    const dataDir = tempDir();
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const file = path.join(dataDir, '.mail-seal-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.mailSealSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir }).mailSealSecret).toBe(
      first.mailSealSecret,
    );
    expect(first.mailSealSecret).not.toBe(first.jwtSecret);
  });

  it('falls back to JWT_SECRET in production when unset, so mail queued before it existed opens', () => {
    const env = {
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      PASSWORD_PEPPER: PEPPER,
      MFA_ENCRYPTION_KEY: SEAL,
    };
    expect(loadConfig(env).mailSealSecret).toBe(SECRET);
  });
});

describe('loadConfig: counts are written in digits', () => {
  it.each(['1e3', '0x10', '+5', '-1'])('PORT=%s is refused', (value) => {
    expect(refusedVariable({ NODE_ENV: 'test', PORT: value })).toBe('PORT');
  });
});
