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
      serializers: { err: serializeError, error: serializeError },
      base: { service: 'homefront' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
