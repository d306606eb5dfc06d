import { type Static, Type } from 'typebox';

/**
 * Every environment variable the service reads, with its type, range and default. Values arrive
 * as text (trimmed, blank = unset) and are coerced by env-schema; what one variable cannot say
 * alone (URLs, lists, secrets, rules between variables) is checked in config.ts.
 * `problem` is the sentence a refused value gets instead of Ajv's wording.
 */
const int = (fallback: number, minimum: number, maximum: number) =>
  Type.Integer({ default: fallback, minimum, maximum });
const text = (options: { problem?: string; pattern?: string } = {}) =>
  Type.Optional(Type.String(options));

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union(
    ['development', 'production', 'test'].map((value) => Type.Literal(value)),
    { default: 'development', problem: 'must be development, production or test' },
  ),
  PORT: int(3000, 0, 65535),
  HOST: Type.String({ default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info', problem: `must be one of ${LOG_LEVELS.join(', ')}` },
  ),
  DATABASE_URL: text(),
  DATA_DIR: Type.String({ default: './data' }),
  DB_POOL_MAX: int(10, 1, 200),
  DB_CONNECT_TIMEOUT_MS: int(3_000, 100, 120_000),
  DB_STATEMENT_TIMEOUT_MS: int(10_000, 100, 600_000),
  DB_LOCK_TIMEOUT_MS: int(2_000, 10, 600_000),
  JWT_SECRET: text(),
  PASSWORD_PEPPER: text(),
  MAIL_SEAL_SECRET: text(),
  MFA_ENCRYPTION_KEY: text(),
  MFA_REQUIRED_ROLES: Type.String({
    default: '',
    pattern: '^([a-z_]{1,40}(,[a-z_]{1,40})*)?$',
    problem:
      'must be a comma-separated list of role names (e.g. "admin" or "admin,service_provider")',
  }),
  WEBAUTHN_RP_ID: Type.String({
    default: 'localhost',
    pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$',
    maxLength: 253,
    problem: 'must be a lower-case domain name such as example.com (no scheme, port or path)',
  }),
  WEBAUTHN_ORIGINS: text(),
  BCRYPT_COST: int(12, 4, 15),
  ACCESS_TOKEN_TTL: int(900, 30, 86_400),
  REFRESH_TOKEN_TTL: int(2_592_000, 300, 31_536_000),
  REFRESH_IDLE_TTL: int(604_800, 300, 31_536_000),
  VERIFY_TOKEN_TTL: int(86_400, 60, 604_800),
  RESET_TOKEN_TTL: int(1_800, 60, 86_400),
  SMTP_URL: text(),
  MAIL_FROM: Type.String({ default: 'no-reply@localhost' }),
  PUBLIC_APP_URL: text(),
  ADMIN_EMAIL: text(),
  ADMIN_PASSWORD: text(),
  CORS_ORIGINS: text(),
  TRUST_PROXY: text(),
  BODY_LIMIT_BYTES: int(1_048_576, 1_024, 104_857_600),
  HEADERS_TIMEOUT_MS: int(10_000, 100, 600_000),
  REQUEST_TIMEOUT_MS: int(30_000, 100, 600_000),
  KEEP_ALIVE_TIMEOUT_MS: int(72_000, 1_000, 600_000),
  WEB_CONCURRENCY: int(1, 1, 64),
  REDIS_URL: text(),
  REDIS_KEY_PREFIX: Type.String({
    default: 'homefront:',
    pattern: '^[A-Za-z0-9:_.-]{1,64}$',
    problem: 'must be 1-64 letters, digits or any of : _ . - (e.g. "homefront:")',
  }),
  RATE_LIMIT_WINDOW: int(60, 1, 86_400),
  RATE_LIMIT_GLOBAL_MAX: int(600, 1, 1_000_000),
  RATE_LIMIT_AUTH_MAX: int(20, 1, 100_000),
  RATE_LIMIT_LOGIN_FAILURES: int(10, 1, 10_000),
  RATE_LIMIT_MAILS_PER_EMAIL: int(5, 1, 10_000),
  MESSAGE_RATE_LIMIT: int(30, 1, 100_000),
  RETENTION_DAYS: int(30, 1, 3650),
  AUDIT_RETENTION_DAYS: int(365, 0, 36_500),
  RETENTION_BATCH_SIZE: int(1000, 1, 100_000),
  NOTIFICATION_RETENTION_DAYS: int(90, 1, 3650),
  NOTIFICATIONS_HEARTBEAT_MS: int(25_000, 50, 300_000),
  NOTIFICATIONS_MAX_STREAMS_PER_USER: int(5, 1, 100),
  RATING_PRIOR_MEAN: Type.Number({ default: 3.5, minimum: 1, maximum: 5 }),
  RATING_PRIOR_WEIGHT: Type.Number({ default: 5, minimum: 0, maximum: 1000 }),
});

export type Env = Static<typeof EnvSchema>;
