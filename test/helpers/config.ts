import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config.js';

/** The environment every test app starts from; a test overrides what it is about. */
export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    BCRYPT_COST: '4',
    JWT_SECRET: 'test-secret-that-is-at-least-32-bytes-long!!',
    PASSWORD_PEPPER: 'test-pepper-that-is-at-least-32-bytes-long!!',
    MFA_ENCRYPTION_KEY: 'test-mfa-key-that-is-at-least-32-bytes-long!!',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'homefront-data-')),
    LOG_LEVEL: 'info',
    PUBLIC_APP_URL: 'http://app.test',
    // Suites log in and register many times from one address; rate-limit tests set their own.
    RATE_LIMIT_GLOBAL_MAX: '1000000',
    RATE_LIMIT_AUTH_MAX: '100000',
    RATE_LIMIT_LOGIN_FAILURES: '10000',
    RATE_LIMIT_MAILS_PER_EMAIL: '10000',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig(testEnv(overrides));
}
