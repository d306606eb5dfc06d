import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import envSchema from 'env-schema';
import { type Env, EnvSchema, type LOG_LEVELS } from './config/schema.js';
import { developmentSecret, MIN_SECRET_BYTES } from './config/secrets.js';
import { canonicalEmail } from './lib/email.js';

/**
 * The only module that reads process.env. Every setting is declared in config/schema.ts, validated
 * once here with the rules between settings, and the rest of the code receives a typed, deeply
 * frozen Config.
 */

export type LogLevel = (typeof LOG_LEVELS)[number];
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
  /** Messages one user may post per window (POST /threads/{id}/messages). */
  messagesPerUser: number;
}

export interface RetentionConfig {
  /** Finished rows (sent mail, dead sessions and tokens, finished jobs) older than this go. */
  days: number;
  /** Audit events older than this go; 0 keeps them forever. */
  auditDays: number;
  /** Rows deleted per statement. */
  batchSize: number;
  /** Notifications read more than this many days ago go. */
  notificationDays: number;
}

export interface NotificationsConfig {
  /** A comment line on every open stream this often, so proxies and clients see it alive. */
  heartbeatMs: number;
  /** Open notification streams one user may hold on one instance; one more is 429. */
  maxStreamsPerUser: number;
}

export interface RatingsConfig {
  /** The Bayesian average's prior: the mean a provider starts from… */
  priorMean: number;
  /** …and how many reviews' worth of weight it has. */
  priorWeight: number;
}

/** Passkeys (WebAuthn): who the relying party is and which pages may run the ceremonies. */
export interface WebAuthnConfig {
  /** The relying-party ID: a domain every origin's host is or ends in (WEBAUTHN_RP_ID). */
  rpId: string;
  /** The exact origins (scheme, host, port) the browser ceremonies may come from. */
  origins: string[];
}

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  jwtSecret: string;
  /** Key of the queued mail's encryption, apart from JWT_SECRET so either can rotate alone. */
  mailSealSecret: string;
  /** Key the TOTP secrets are sealed with at rest: its own, never JWT_SECRET. */
  mfaEncryptionKey: string;
  /** Roles whose holders must enrol a second factor before anything else (MFA_REQUIRED_ROLES). */
  mfaRequiredRoles: string[];
  webauthn: WebAuthnConfig;
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
  /** How long a marketplace transaction waits for a row another one holds: then 503, retry. */
  dbLockTimeoutMs: number;
  dbConnectTimeoutMs: number;
  dbPoolMax: number;
  retention: RetentionConfig;
  notifications: NotificationsConfig;
  ratings: RatingsConfig;
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

type RawEnv = Record<string, string | undefined>;
type Schema = { type?: string; minimum?: number; maximum?: number; problem?: string };
const declared = EnvSchema.properties as Record<string, Schema>;

/** Ajv's first complaint about a variable, as one sentence naming it. */
function refusal(error: ErrorObject, env: RawEnv): ConfigError {
  const name = error.instancePath.slice(1) || String(error.params.missingProperty);
  const raw = env[name];
  const schema = declared[name] ?? {};
  if (schema.problem) return new ConfigError(name, schema.problem);
  if (error.keyword === 'minimum' || error.keyword === 'maximum') {
    return new ConfigError(
      name,
      `must be between ${schema.minimum} and ${schema.maximum}, got ${raw}`,
    );
  }
  return new ConfigError(name, error.message ?? 'is not valid');
}

/** The variables as the schema sees them: trimmed, blank meaning unset, only those it declares. */
function validated(raw: RawEnv): Env {
  const data: Record<string, string> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = raw[name]?.trim();
    if (!value) continue;
    // Ajv would coerce "-1", "1e3" or "0x10" to numbers; a count is written in digits only.
    if (declared[name]?.type === 'integer' && !/^\d+$/.test(value)) {
      throw new ConfigError(name, `must be a whole number, got "${value}"`);
    }
    data[name] = value;
  }
  try {
    return envSchema<Env>({
      schema: { ...EnvSchema },
      data,
      env: false,
      ajv: {
        customOptions: (ajv) => {
          ajv.addKeyword({ keyword: 'problem', schemaType: 'string' });
          return ajv;
        },
      },
    });
  } catch (error) {
    const first = (error as { errors?: ErrorObject[] }).errors?.[0];
    if (first) throw refusal(first, data);
    throw error;
  }
}

function url(name: string, raw: string | undefined, protocols: string[]): string | undefined {
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

/**
 * The API's own address as a person on this machine reaches it: a wildcard or loopback HOST is
 * reached as localhost. Never taken from a request's Host header, which a client chooses.
 */
function ownUrl(host: string, port: number): string {
  const wildcardOrLoopback = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(host);
  const name = wildcardOrLoopback ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function parseTrustProxy(raw: string | undefined): TrustProxy {
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

function parseCorsOrigins(raw: string | undefined): string[] {
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

const isLocalhost = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * WEBAUTHN_ORIGINS (default: this API's own localhost address) against WEBAUTHN_RP_ID: each a bare
 * origin, https (http only for localhost, which browsers treat as secure), whose host is the RP
 * ID or a subdomain of it. An RP ID must itself be a registrable domain: a bare top-level name
 * (`com`) is refused, localhost excepted.
 */
function parseWebAuthn(env: Env): WebAuthnConfig {
  const rpId = env.WEBAUTHN_RP_ID;
  if (!rpId.includes('.') && rpId !== 'localhost') {
    throw new ConfigError(
      'WEBAUTHN_RP_ID',
      `must be a registrable domain such as example.com, got "${rpId}"`,
    );
  }
  if (isIP(rpId)) {
    throw new ConfigError('WEBAUTHN_RP_ID', 'must be a domain name, not an IP address');
  }
  const raw = env.WEBAUTHN_ORIGINS ?? `http://localhost:${env.PORT}`;
  const origins = raw.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(
        'WEBAUTHN_ORIGINS',
        `"${origin}" is not an origin like https://app.example.com`,
      );
    }
    const bare =
      parsed.pathname === '/' &&
      !parsed.search &&
      !parsed.hash &&
      !parsed.username &&
      !parsed.password;
    if (!bare || !origin.startsWith(`${parsed.protocol}//`)) {
      throw new ConfigError(
        'WEBAUTHN_ORIGINS',
        `"${origin}" must be a bare origin (scheme, host, port)`,
      );
    }
    const host = parsed.hostname;
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLocalhost(host))) {
      throw new ConfigError(
        'WEBAUTHN_ORIGINS',
        `"${origin}" must use https (http only for localhost)`,
      );
    }
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new ConfigError(
        'WEBAUTHN_ORIGINS',
        `"${origin}" is not on WEBAUTHN_RP_ID "${rpId}": its host must be ${rpId} or a subdomain of it`,
      );
    }
    return parsed.origin;
  });
  return { rpId, origins: [...new Set(origins)] };
}

/** A given secret must be long enough; production must be given one; elsewhere one is made. */
function secret(env: Env, name: SecretName, dataDir: string, fileName: string): string {
  const value = env[name];
  if (value !== undefined) {
    if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
      throw new ConfigError(name, `must be at least ${MIN_SECRET_BYTES} bytes long`);
    }
    return value;
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(name, 'is required when NODE_ENV=production (at least 32 random bytes)');
  }
  return developmentSecret(env.NODE_ENV, dataDir, fileName);
}
type SecretName = 'JWT_SECRET' | 'PASSWORD_PEPPER' | 'MAIL_SEAL_SECRET' | 'MFA_ENCRYPTION_KEY';

/** The rules between variables, which no single variable's schema can state. */
function checkCrossFieldRules(env: Env) {
  if (env.NODE_ENV === 'production' && env.BCRYPT_COST < 12) {
    throw new ConfigError('BCRYPT_COST', `must be between 12 and 15, got ${env.BCRYPT_COST}`);
  }
  if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError(
      env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL',
      'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    );
  }
  if (env.ADMIN_PASSWORD !== undefined && env.ADMIN_PASSWORD.length < 12) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 12 characters');
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(env.MAIL_FROM.replace(/^.*<(.+)>$/, '$1'))) {
    throw new ConfigError('MAIL_FROM', 'is not an email address');
  }
  if (env.WEB_CONCURRENCY > 1 && !env.DATABASE_URL) {
    throw new ConfigError(
      'WEB_CONCURRENCY',
      'above 1 needs DATABASE_URL: the embedded database serves one process',
    );
  }
  const days = env.RETENTION_DAYS;
  const auditDays = env.AUDIT_RETENTION_DAYS;
  if (auditDays !== 0 && auditDays < days) {
    throw new ConfigError(
      'AUDIT_RETENTION_DAYS',
      `must be 0 (keep forever) or at least RETENTION_DAYS (${days}), got ${auditDays}`,
    );
  }
}

/** Canonical, as every address the service stores: the admin is found under any spelling. */
function adminEmail(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const canonical = canonicalEmail(raw);
  if (!canonical) {
    throw new ConfigError('ADMIN_EMAIL', 'is not a plain email address (name@example.com)');
  }
  return canonical;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function loadConfig(raw: RawEnv = process.env): Config {
  const env = validated(raw);
  checkCrossFieldRules(env);
  const dataDir = path.resolve(env.DATA_DIR);
  const frontendUrl = url('PUBLIC_APP_URL', env.PUBLIC_APP_URL, ['http:', 'https:'])?.replace(
    /\/+$/,
    '',
  );
  const jwtSecret = secret(env, 'JWT_SECRET', dataDir, '.jwt-secret');
  const config: Config = {
    nodeEnv: env.NODE_ENV as Config['nodeEnv'],
    port: env.PORT,
    host: env.HOST,
    databaseUrl: url('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:']),
    dataDir,
    jwtSecret,
    // Production without one keeps the key it had before the variable existed: queued mail opens.
    mailSealSecret:
      env.NODE_ENV === 'production' && env.MAIL_SEAL_SECRET === undefined
        ? jwtSecret
        : secret(env, 'MAIL_SEAL_SECRET', dataDir, '.mail-seal-secret'),
    accessTokenTtl: env.ACCESS_TOKEN_TTL,
    refreshTokenTtl: env.REFRESH_TOKEN_TTL,
    refreshIdleTtl: env.REFRESH_IDLE_TTL,
    verifyTokenTtl: env.VERIFY_TOKEN_TTL,
    resetTokenTtl: env.RESET_TOKEN_TTL,
    bcryptCost: env.BCRYPT_COST,
    passwordPepper: secret(env, 'PASSWORD_PEPPER', dataDir, '.password-pepper'),
    mfaEncryptionKey: secret(env, 'MFA_ENCRYPTION_KEY', dataDir, '.mfa-encryption-key'),
    mfaRequiredRoles: env.MFA_REQUIRED_ROLES ? env.MFA_REQUIRED_ROLES.split(',') : [],
    webauthn: parseWebAuthn(env),
    smtpUrl: url('SMTP_URL', env.SMTP_URL, ['smtp:', 'smtps:']),
    mailFrom: env.MAIL_FROM,
    publicAppUrl: frontendUrl ?? ownUrl(env.HOST, env.PORT),
    linkPages: frontendUrl ? 'frontend' : 'api',
    adminEmail: adminEmail(env.ADMIN_EMAIL),
    adminPassword: env.ADMIN_PASSWORD,
    redisUrl: url('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']),
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    corsOrigins: parseCorsOrigins(env.CORS_ORIGINS),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    logLevel: env.LOG_LEVEL as LogLevel,
    rateLimit: {
      globalMax: env.RATE_LIMIT_GLOBAL_MAX,
      authMax: env.RATE_LIMIT_AUTH_MAX,
      loginFailuresPerEmail: env.RATE_LIMIT_LOGIN_FAILURES,
      windowSeconds: env.RATE_LIMIT_WINDOW,
      mailsPerEmailPerHour: env.RATE_LIMIT_MAILS_PER_EMAIL,
      messagesPerUser: env.MESSAGE_RATE_LIMIT,
    },
    webConcurrency: env.WEB_CONCURRENCY,
    headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    dbStatementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    dbLockTimeoutMs: env.DB_LOCK_TIMEOUT_MS,
    dbConnectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    dbPoolMax: env.DB_POOL_MAX,
    retention: {
      days: env.RETENTION_DAYS,
      auditDays: env.AUDIT_RETENTION_DAYS,
      batchSize: env.RETENTION_BATCH_SIZE,
      notificationDays: env.NOTIFICATION_RETENTION_DAYS,
    },
    notifications: {
      heartbeatMs: env.NOTIFICATIONS_HEARTBEAT_MS,
      maxStreamsPerUser: env.NOTIFICATIONS_MAX_STREAMS_PER_USER,
    },
    ratings: { priorMean: env.RATING_PRIOR_MEAN, priorWeight: env.RATING_PRIOR_WEIGHT },
  };
  return deepFreeze(config);
}

/** Reads `.env` into process.env (never overriding what is already set). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
