import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

type Env = Record<string, string | undefined>;

const SECRET = 'a-secret-that-is-at-least-32-bytes-long!!';
const MFA_KEY = 'an-mfa-key-that-is-at-least-32-bytes-long!!';
const PEPPER = 'a-pepper-that-is-at-least-32-bytes-long!!';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'homefront-config-'));

/** A complete, valid test environment; each case changes the one variable it is about. */
const base = (overrides: Env = {}): Env => ({
  NODE_ENV: 'test',
  DATA_DIR: tempDir(),
  JWT_SECRET: SECRET,
  PASSWORD_PEPPER: PEPPER,
  MFA_ENCRYPTION_KEY: MFA_KEY,
  ...overrides,
});

const production = (overrides: Env = {}): Env => base({ NODE_ENV: 'production', ...overrides });

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

function expectRefused(env: Env, variable: string) {
  const error = configError(env);
  expect(error.variable).toBe(variable);
  expect(error.message).toContain(variable);
  expect(error.message).not.toContain('\n');
}

describe('loadConfig: defaults (API.md configuration table)', () => {
  const config = loadConfig({ NODE_ENV: 'test' });

  it('listens on 127.0.0.1:3000', () => {
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
  });

  it('uses the embedded database under ./data', () => {
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe(path.resolve('./data'));
  });

  it('gives access tokens 900 s and refresh tokens 2592000 s', () => {
    expect(config.accessTokenTtl).toBe(900);
    expect(config.refreshTokenTtl).toBe(2_592_000);
  });

  it('lets a reset token live 30 minutes', () => {
    expect(config.resetTokenTtl).toBe(1_800);
  });

  it('writes mail to the outbox from no-reply@localhost, linking to http://localhost:3000', () => {
    expect(config.smtpUrl).toBeUndefined();
    expect(config.mailFrom).toBe('no-reply@localhost');
    expect(config.publicAppUrl).toBe('http://localhost:3000');
  });

  it('creates no admin, uses no Redis, allows no CORS origin and trusts no proxy', () => {
    expect(config.adminEmail).toBeUndefined();
    expect(config.adminPassword).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.corsOrigins).toEqual([]);
    expect(config.trustProxy).toBe(false);
  });

  it('logs at info', () => {
    expect(config.logLevel).toBe('info');
  });

  it('hashes with bcrypt cost 12 and limits bodies to 1 MiB', () => {
    expect(config.bcryptCost).toBe(12);
    expect(config.bodyLimitBytes).toBe(1_048_576);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('runs in development when NODE_ENV is unset', () => {
    expect(loadConfig({ DATA_DIR: tempDir() }).nodeEnv).toBe('development');
  });

  it('generates JWT_SECRET once in development and keeps it (mode 0600) under DATA_DIR', () => {
    const dataDir = tempDir();
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const second = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    expect(Buffer.byteLength(first.jwtSecret)).toBeGreaterThanOrEqual(32);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    const file = path.join(dataDir, '.jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keeps nothing on disk in test mode', () => {
    const dataDir = tempDir();
    loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
    expect(existsSync(path.join(dataDir, '.jwt-secret'))).toBe(false);
  });
});

describe('loadConfig: values it reads', () => {
  it('reads PORT, HOST and DATABASE_URL', () => {
    const config = loadConfig(
      base({ PORT: '8080', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u:p@db:5432/homefront' }),
    );
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/homefront');
  });

  it('accepts postgresql:// as well as postgres://', () => {
    expect(loadConfig(base({ DATABASE_URL: 'postgresql://db/x' })).databaseUrl).toBe(
      'postgresql://db/x',
    );
  });

  it('treats an empty or blank variable as unset', () => {
    const config = loadConfig(base({ PORT: '  ', DATABASE_URL: '' }));
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
  });

  it('splits CORS_ORIGINS on commas into bare origins', () => {
    const config = loadConfig(
      base({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/' }),
    );
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('lower-cases ADMIN_EMAIL and keeps ADMIN_PASSWORD', () => {
    const config = loadConfig(
      base({ ADMIN_EMAIL: 'Admin@Example.COM', ADMIN_PASSWORD: 'a long admin password' }),
    );
    expect(config.adminEmail).toBe('admin@example.com');
    expect(config.adminPassword).toBe('a long admin password');
  });

  it('keeps ADMIN_EMAIL in the canonical form accounts are stored in (NFKC, IDNA)', () => {
    const password = { ADMIN_PASSWORD: 'a long admin password' };
    const fullwidth = loadConfig(
      base({ ADMIN_EMAIL: 'Ａｄｍｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ', ...password }),
    );
    expect(fullwidth.adminEmail).toBe('admin@example.com');
    const idn = loadConfig(base({ ADMIN_EMAIL: 'admin@Bücher.de', ...password }));
    expect(idn.adminEmail).toBe('admin@xn--bcher-kva.de');
  });

  it('strips trailing slashes from PUBLIC_APP_URL', () => {
    expect(loadConfig(base({ PUBLIC_APP_URL: 'https://app.example.com/' })).publicAppUrl).toBe(
      'https://app.example.com',
    );
  });

  it('links mails to the front end at PUBLIC_APP_URL when it is set', () => {
    const config = loadConfig(base({ PUBLIC_APP_URL: 'https://app.example.com' }));
    expect(config.linkPages).toBe('frontend');
  });

  it.each([
    [{}, 'http://localhost:3000'],
    [{ PORT: '8080' }, 'http://localhost:8080'],
    [{ HOST: '0.0.0.0', PORT: '3000' }, 'http://localhost:3000'],
    [{ HOST: '::1' }, 'http://localhost:3000'],
    [{ HOST: '10.0.0.5' }, 'http://10.0.0.5:3000'],
    [{ HOST: 'fd00::5' }, 'http://[fd00::5]:3000'],
    [{ HOST: 'api.lan', PORT: '80' }, 'http://api.lan:80'],
  ])('without PUBLIC_APP_URL links mails to the API itself: %o → %s', (env, expected) => {
    const config = loadConfig(base({ PUBLIC_APP_URL: undefined, ...env }));
    expect(config.linkPages).toBe('api');
    expect(config.publicAppUrl).toBe(expected);
  });

  it('starts in production with its secrets given and bcrypt cost 12', () => {
    const config = loadConfig(production());
    expect(config.nodeEnv).toBe('production');
    expect(config.jwtSecret).toBe(SECRET);
    expect(config.passwordPepper).toBe(PEPPER);
    expect(config.bcryptCost).toBe(12);
  });

  it('accepts a lower bcrypt cost outside production, for fast tests', () => {
    expect(loadConfig(base({ BCRYPT_COST: '4' })).bcryptCost).toBe(4);
  });
});

describe('loadConfig: TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 172.16.0.0/12,192.168.1.1', ['10.0.0.0/8', '172.16.0.0/12', '192.168.1.1']],
    ['::1, fd00::/8', ['::1', 'fd00::/8']],
  ])('parses %j as %j', (raw, expected) => {
    expect(loadConfig(base({ TRUST_PROXY: raw })).trustProxy).toEqual(expected);
  });
});

describe('loadConfig: a bad value stops the start with an error naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://db/homefront'],
    ['DATABASE_URL', 'http://db:5432/homefront'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', 'proxy.internal'],
    ['TRUST_PROXY', '300.1.1.1'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'app.example.com'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['CORS_ORIGINS', 'https://ok.example.com,nonsense'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_LEVEL', 'loud'],
    ['JWT_SECRET', 'secret'],
    ['JWT_SECRET', 'x'.repeat(31)],
    ['PASSWORD_PEPPER', 'pepper'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['REFRESH_TOKEN_TTL', 'forever'],
    ['SMTP_URL', 'http://mail.example.com'],
    ['PUBLIC_APP_URL', 'ftp://app.example.com'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_KEY_PREFIX', 'home front:'],
    ['REDIS_KEY_PREFIX', '*'],
    ['MAIL_FROM', 'nobody'],
    ['NODE_ENV', 'staging'],
  ])('%s=%j', (variable, value) => {
    expectRefused(base({ [variable]: value }), variable);
  });

  it('accepts a JWT_SECRET of exactly 32 bytes', () => {
    expect(loadConfig(base({ JWT_SECRET: 'x'.repeat(32) })).jwtSecret).toBe('x'.repeat(32));
  });

  it('refuses a short JWT_SECRET in production too', () => {
    expectRefused(production({ JWT_SECRET: 'secret' }), 'JWT_SECRET');
  });

  it('requires JWT_SECRET when NODE_ENV=production', () => {
    expectRefused(production({ JWT_SECRET: undefined }), 'JWT_SECRET');
  });

  it('requires PASSWORD_PEPPER when NODE_ENV=production', () => {
    expectRefused(production({ PASSWORD_PEPPER: undefined }), 'PASSWORD_PEPPER');
  });

  it('requires MFA_ENCRYPTION_KEY when NODE_ENV=production, and at least 32 bytes of it', () => {
    expectRefused(production({ MFA_ENCRYPTION_KEY: undefined }), 'MFA_ENCRYPTION_KEY');
    expectRefused(production({ MFA_ENCRYPTION_KEY: 'short' }), 'MFA_ENCRYPTION_KEY');
    expect(loadConfig(production()).mfaEncryptionKey).toBe(MFA_KEY);
  });

  it('generates MFA_ENCRYPTION_KEY in development, apart from JWT_SECRET, and keeps it', () => {
    const dataDir = tempDir();
    const env = { NODE_ENV: 'development', DATA_DIR: dataDir };
    const first = loadConfig(env);
    expect(first.mfaEncryptionKey.length).toBeGreaterThanOrEqual(32);
    expect(first.mfaEncryptionKey).not.toBe(first.jwtSecret);
    expect(loadConfig(env).mfaEncryptionKey).toBe(first.mfaEncryptionKey);
  });

  it('reads MFA_REQUIRED_ROLES as a list of role names', () => {
    expect(loadConfig(base()).mfaRequiredRoles).toEqual([]);
    expect(
      loadConfig(base({ MFA_REQUIRED_ROLES: 'admin,service_provider' })).mfaRequiredRoles,
    ).toEqual(['admin', 'service_provider']);
    expectRefused(base({ MFA_REQUIRED_ROLES: 'admin, homeowner' }), 'MFA_REQUIRED_ROLES');
    expectRefused(base({ MFA_REQUIRED_ROLES: 'Admin;drop' }), 'MFA_REQUIRED_ROLES');
  });

  it('refuses BCRYPT_COST below 12 in production', () => {
    expectRefused(production({ BCRYPT_COST: '11' }), 'BCRYPT_COST');
    expectRefused(production({ BCRYPT_COST: '4' }), 'BCRYPT_COST');
  });

  it('refuses ADMIN_EMAIL without ADMIN_PASSWORD', () => {
    expectRefused(base({ ADMIN_EMAIL: 'admin@example.com' }), 'ADMIN_PASSWORD');
  });

  it('refuses ADMIN_PASSWORD without ADMIN_EMAIL', () => {
    expectRefused(base({ ADMIN_PASSWORD: 'a long admin password' }), 'ADMIN_EMAIL');
  });

  it.each([
    'admin',
    'Admin <admin@example.com>',
    '"admin"@example.com',
    'admin@example.com.',
    'a,admin@example.com',
  ])('refuses an ADMIN_EMAIL that is not a plain email address: %s', (value) => {
    expectRefused(
      base({ ADMIN_EMAIL: value, ADMIN_PASSWORD: 'a long admin password' }),
      'ADMIN_EMAIL',
    );
  });
});

describe('the server process with a bad configuration', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  // tsx by absolute URL, so the child can run in an empty folder where no stray .env is read.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

  function start(env: Env): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const cwd = tempDir();
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'src/server.ts')], {
      cwd,
      env: { PATH: process.env.PATH, DATA_DIR: path.join(cwd, 'data'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Bounded, but generous: a loaded CI machine can take a while to start tsx.
      timeout: 90_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('exits 1 with one line on stderr naming PORT when PORT=abc', async () => {
    const result = await start({ NODE_ENV: 'test', PORT: 'abc' });
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
    expect(result.stdout).toBe('');
  }, 120_000);

  it('refuses to start in production with JWT_SECRET=secret', async () => {
    const result = await start({
      NODE_ENV: 'production',
      JWT_SECRET: 'secret',
      PASSWORD_PEPPER: PEPPER,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('JWT_SECRET');
  }, 120_000);
});
