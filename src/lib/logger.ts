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
