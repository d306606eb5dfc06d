import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { canonicalEmail } from './lib/email.js';

/**
 * The only module that reads process.env. Every setting is parsed and validated once, here;
 * the rest of the code receives a typed, frozen Config.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type TrustProxy = boolean | number | string[];

export interface RateLimitConfig {
  /** Requests per window per client address, all routes together. */
  globalMax: number;
  /** Requests per window per client address on each sensitive auth route. */
  authMax: number;
  /** Failed logins per window for one normalised email before it is throttled. */
  loginFailuresPerEmail: number;
  windowSeconds: number;
  /** Mails (register, resend, forgot-password) one email address can trigger per hour. */
  mailsPerEmailPerHour: number;
}

export interface RetentionConfig {
  /** Finished rows (sent mail, dead sessions and tokens, finished jobs) older than this go. */
  days: number;
  /** Audit events older than this go; 0 keeps them forever. */
  auditDays: number;
  /** Rows deleted per statement. */
  batchSize: number;
}

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  jwtSecret: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** A refresh session unused for this long dies even before its absolute lifetime. */
  refreshIdleTtl: number;
  verifyTokenTtl: number;
  resetTokenTtl: number;
  bcryptCost: number;
  passwordPepper: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Base of the links in mails: PUBLIC_APP_URL, or this API's own address when that is unset. */
  publicAppUrl: string;
  /**
   * Who serves the pages those links open: a front end at PUBLIC_APP_URL, or, with PUBLIC_APP_URL
   * unset, this API itself (GET /verify-email, /reset-password, /forgot-password).
   */
  linkPages: 'frontend' | 'api';
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  redisUrl: string | undefined;
  /** Prefix of every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  corsOrigins: string[];
  trustProxy: TrustProxy;
  logLevel: LogLevel;
  rateLimit: RateLimitConfig;
  webConcurrency: number;
  /** Drop connections whose headers have not arrived after this many ms (slowloris). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  bodyLimitBytes: number;
  dbStatementTimeoutMs: number;
  dbConnectTimeoutMs: number;
  dbPoolMax: number;
  retention: RetentionConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
const MIN_SECRET_BYTES = 32;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(
      name,
      `must use one of ${protocols.join(', ')}, got "${parsed.protocol}"`,
    );
  }
  return raw;
}

function email(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  // Canonical, as every address the service stores: the admin is found under any spelling.
  const canonical = canonicalEmail(raw);
  if (!canonical) throw new ConfigError(name, 'is not a plain email address (name@example.com)');
  return canonical;
}

/**
 * The API's own address as a person on this machine reaches it: a wildcard or loopback HOST is
 * reached as localhost. Never taken from a request's Host header, which a client chooses.
 */
function ownUrl(host: string, port: number): string {
  const wildcardOrLoopback = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(host);
  const name = wildcardOrLoopback ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function redisKeyPrefix(env: Env): string {
  const raw = read(env, 'REDIS_KEY_PREFIX') ?? 'homefront:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(raw)) {
    throw new ConfigError(
      'REDIS_KEY_PREFIX',
      'must be 1-64 letters, digits or any of : _ . - (e.g. "homefront:")',
    );
  }
  return raw;
}

function parseTrustProxy(env: Env): TrustProxy {
  const raw = read(env, 'TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk) {
      throw new ConfigError(
        'TRUST_PROXY',
        `must be true, false, a hop count or comma-separated addresses/CIDRs; "${entry}" is none of these`,
      );
    }
  }
  return entries;
}

function parseCorsOrigins(env: Env): string[] {
  const raw = read(env, 'CORS_ORIGINS');
  if (raw === undefined) return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(
        'CORS_ORIGINS',
        `"${origin}" is not an origin like https://app.example.com`,
      );
    }
    if (parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `"${origin}" must be a bare origin (scheme, host, port)`,
      );
    }
    return parsed.origin;
  });
}

/**
 * In development a missing JWT_SECRET is generated once and kept under DATA_DIR, so tokens
 * survive restarts; production must be given one.
 */
function resolveSecret(
  env: Env,
  name: string,
  nodeEnv: Config['nodeEnv'],
  dataDir: string,
  fileName: string,
): string {
  const value = read(env, name);
  if (value !== undefined) {
    if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
      throw new ConfigError(name, `must be at least ${MIN_SECRET_BYTES} bytes long`);
    }
    return value;
  }
  if (nodeEnv === 'production') {
    throw new ConfigError(name, 'is required when NODE_ENV=production (at least 32 random bytes)');
  }
  if (nodeEnv === 'test') return randomBytes(32).toString('base64url');
  const file = path.join(dataDir, fileName);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64url');
  writeFileSync(file, generated, { mode: 0o600 });
  return generated;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnvRaw = read(env, 'NODE_ENV') ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnvRaw)) {
    throw new ConfigError(
      'NODE_ENV',
      `must be development, production or test, got "${nodeEnvRaw}"`,
    );
  }
  const nodeEnv = nodeEnvRaw as Config['nodeEnv'];
  const production = nodeEnv === 'production';

  const logLevel = (read(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const dataDir = path.resolve(read(env, 'DATA_DIR') ?? './data');
  const adminEmail = email(env, 'ADMIN_EMAIL');
  const adminPassword = read(env, 'ADMIN_PASSWORD');
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(
      adminEmail ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL',
      'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    );
  }
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 12 characters');
  }

  const frontendUrl = url(env, 'PUBLIC_APP_URL', ['http:', 'https:'])?.replace(/\/+$/, '');
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = read(env, 'HOST') ?? '127.0.0.1';
  const mailFrom = read(env, 'MAIL_FROM') ?? 'no-reply@localhost';
  if (!/^[^\s@]+@[^\s@]+$/.test(mailFrom.replace(/^.*<(.+)>$/, '$1'))) {
    throw new ConfigError('MAIL_FROM', 'is not an email address');
  }

  const config: Config = {
    nodeEnv,
    port,
    host,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir,
    jwtSecret: resolveSecret(env, 'JWT_SECRET', nodeEnv, dataDir, '.jwt-secret'),
    accessTokenTtl: integer(env, 'ACCESS_TOKEN_TTL', 900, 30, 86_400),
    refreshTokenTtl: integer(env, 'REFRESH_TOKEN_TTL', 2_592_000, 300, 31_536_000),
    refreshIdleTtl: integer(env, 'REFRESH_IDLE_TTL', 604_800, 300, 31_536_000),
    verifyTokenTtl: integer(env, 'VERIFY_TOKEN_TTL', 86_400, 60, 604_800),
    resetTokenTtl: integer(env, 'RESET_TOKEN_TTL', 1_800, 60, 86_400),
    bcryptCost: integer(env, 'BCRYPT_COST', 12, production ? 12 : 4, 15),
    passwordPepper: resolveSecret(env, 'PASSWORD_PEPPER', nodeEnv, dataDir, '.password-pepper'),
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom,
    publicAppUrl: frontendUrl ?? ownUrl(host, port),
    linkPages: frontendUrl ? 'frontend' : 'api',
    adminEmail,
    adminPassword,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: redisKeyPrefix(env),
    corsOrigins: parseCorsOrigins(env),
    trustProxy: parseTrustProxy(env),
    logLevel,
    rateLimit: {
      globalMax: integer(env, 'RATE_LIMIT_GLOBAL_MAX', 600, 1, 1_000_000),
      authMax: integer(env, 'RATE_LIMIT_AUTH_MAX', 20, 1, 100_000),
      loginFailuresPerEmail: integer(env, 'RATE_LIMIT_LOGIN_FAILURES', 10, 1, 10_000),
      windowSeconds: integer(env, 'RATE_LIMIT_WINDOW', 60, 1, 86_400),
      mailsPerEmailPerHour: integer(env, 'RATE_LIMIT_MAILS_PER_EMAIL', 5, 1, 10_000),
    },
    webConcurrency: integer(env, 'WEB_CONCURRENCY', 1, 1, 64),
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 72_000, 1_000, 600_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1_024, 104_857_600),
    dbStatementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    dbConnectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 3_000, 100, 120_000),
    dbPoolMax: integer(env, 'DB_POOL_MAX', 10, 1, 200),
    retention: {
      days: integer(env, 'RETENTION_DAYS', 30, 1, 3650),
      auditDays: integer(env, 'AUDIT_RETENTION_DAYS', 365, 0, 36_500),
      batchSize: integer(env, 'RETENTION_BATCH_SIZE', 1000, 1, 100_000),
    },
  };
  if (config.webConcurrency > 1 && !config.databaseUrl) {
    throw new ConfigError(
      'WEB_CONCURRENCY',
      'above 1 needs DATABASE_URL: the embedded database serves one process',
    );
  }
  const { days, auditDays } = config.retention;
  if (auditDays !== 0 && auditDays < days) {
    throw new ConfigError(
      'AUDIT_RETENTION_DAYS',
      `must be 0 (keep forever) or at least RETENTION_DAYS (${days}), got ${auditDays}`,
    );
  }
  return Object.freeze(config);
}

/** Reads `.env` into process.env (never overriding what is already set). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
