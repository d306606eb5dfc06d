import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from '../config.js';
import { serializeError } from './log-errors.js';

/** Secrets never reach the log, whichever object they travel in. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.passwordHash',
  'password',
  'token',
];

/** Mail links carry one-time tokens in their query (GET /verify-email?token=…): never log them. */
const QUERY_SECRETS = /([?&](?:token|access_token|refresh_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(QUERY_SECRETS, '$1[redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's own request serializer, with the query's secrets redacted. */
function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? redactUrl(request.url) : request.url,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      // Errors are logged under `err` (pino's and Fastify's convention) or `error`; both go
      // through the one serializer that keeps query parameters out of the log.
      serializers: { req: serializeRequest, err: serializeError, error: serializeError },
      base: { service: 'homefront' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Record<string, unknown>;

/**
 * The logger of one request. Fastify makes a child logger per request for its `reqId` binding;
 * pino's child() serialises the bindings and copies the parent's settings, about 2 µs, on every
 * request, for lines that at the production level (warn) most requests never write. This makes
 * the child on the first line written at an enabled level, and writes through it from then on:
 * the lines, their bindings and levels are the child's own, as before.
 */
export class RequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #logger(): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }

  #write(level: Level, args: unknown[]) {
    if (this.#child === undefined && !this.#parent.isLevelEnabled(level)) return;
    (this.#logger()[level] as (...line: unknown[]) => void)(...args);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#logger().level = level;
  }
  fatal(...args: unknown[]) {
    this.#write('fatal', args);
  }
  error(...args: unknown[]) {
    this.#write('error', args);
  }
  warn(...args: unknown[]) {
    this.#write('warn', args);
  }
  info(...args: unknown[]) {
    this.#write('info', args);
  }
  debug(...args: unknown[]) {
    this.#write('debug', args);
  }
  trace(...args: unknown[]) {
    this.#write('trace', args);
  }
  silent() {}
  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }
  child(bindings: Bindings, options?: Record<string, unknown>): Logger {
    return this.#logger().child(bindings, options);
  }
}

/**
 * Fastify's childLoggerFactory: a RequestLogger, unless the route sets a log level or serializers
 * of its own (then pino's child at once, as Fastify would make it).
 */
export function requestLogger(
  logger: unknown,
  bindings: Bindings,
  options: { level?: string; serializers?: unknown },
): Logger {
  const parent = logger as Logger;
  if (options.level || options.serializers) return parent.child(bindings, options as never);
  return new RequestLogger(parent, bindings) as unknown as Logger;
}
