import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const env = (overrides: Record<string, string> = {}) => ({
  NODE_ENV: 'test',
  DATA_DIR: mkdtempSync(path.join(tmpdir(), 'homefront-config-')),
  ...overrides,
});

function refusal(overrides: Record<string, string>): ConfigError {
  try {
    loadConfig(env(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('retention settings', () => {
  it('default to 30 days, 365 days for the audit trail, batches of 1000', () => {
    expect(loadConfig(env()).retention).toEqual({
      days: 30,
      auditDays: 365,
      batchSize: 1000,
      notificationDays: 90,
    });
  });

  it('take the environment’s values; AUDIT_RETENTION_DAYS=0 keeps the trail forever', () => {
    const config = loadConfig(
      env({ RETENTION_DAYS: '7', AUDIT_RETENTION_DAYS: '0', RETENTION_BATCH_SIZE: '50' }),
    );
    expect(config.retention).toEqual({
      days: 7,
      auditDays: 0,
      batchSize: 50,
      notificationDays: 90,
    });
  });

  it.each([
    [{ RETENTION_DAYS: '0' }, 'RETENTION_DAYS', /between 1 and 3650/],
    [{ RETENTION_DAYS: '30d' }, 'RETENTION_DAYS', /whole number/],
    [{ RETENTION_BATCH_SIZE: '0' }, 'RETENTION_BATCH_SIZE', /between 1 and 100000/],
    [{ AUDIT_RETENTION_DAYS: '-1' }, 'AUDIT_RETENTION_DAYS', /whole number/],
    [
      { RETENTION_DAYS: '90', AUDIT_RETENTION_DAYS: '60' },
      'AUDIT_RETENTION_DAYS',
      /0 \(keep forever\) or at least RETENTION_DAYS \(90\), got 60/,
    ],
  ])('refuses %j, naming %s', (overrides, variable, message) => {
    const error = refusal(overrides);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });
});
