/**
 * Typed errors thrown anywhere in the app; the error handler plugin turns each into RFC 9457
 * problem+json. Nothing else writes an error body.
 */

export type ErrorCode =
  | 'validation_failed'
  | 'bad_request'
  | 'invalid_token'
  | 'invalid_code'
  | 'weak_password'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'token_expired'
  | 'email_not_verified'
  | 'account_disabled'
  | 'forbidden'
  | 'mfa_required'
  | 'step_up_required'
  | 'mfa_enrollment_required'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'conflict'
  | 'invalid_state'
  | 'quote_expired'
  | 'request_closed'
  | 'precondition_failed'
  | 'review_exists'
  | 'review_window_closed'
  | 'reply_exists'
  | 'idempotency_key_in_use'
  | 'idempotency_key_reused'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'too_many_streams'
  | 'not_acceptable'
  | 'header_too_large'
  | 'service_unavailable'
  | 'internal_error';

export interface FieldError {
  path: string;
  message: string;
}

export const ERROR_TITLES: Record<ErrorCode, string> = {
  validation_failed: 'Validation failed',
  bad_request: 'Bad request',
  invalid_token: 'Invalid token',
  invalid_code: 'Invalid code',
  weak_password: 'Weak password',
  unauthorized: 'Unauthorized',
  invalid_credentials: 'Invalid credentials',
  token_expired: 'Token expired',
  email_not_verified: 'Email not verified',
  account_disabled: 'Account disabled',
  forbidden: 'Forbidden',
  mfa_required: 'Second factor required',
  step_up_required: 'Step-up required',
  mfa_enrollment_required: 'Two-factor enrolment required',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  request_timeout: 'Request timeout',
  conflict: 'Conflict',
  invalid_state: 'Invalid state',
  quote_expired: 'Quote expired',
  request_closed: 'Request closed',
  precondition_failed: 'Precondition failed',
  review_exists: 'Review exists',
  review_window_closed: 'Review window closed',
  reply_exists: 'Reply exists',
  idempotency_key_in_use: 'Idempotency key in use',
  idempotency_key_reused: 'Idempotency key reused',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  too_many_streams: 'Too many open streams',
  not_acceptable: 'Not acceptable',
  header_too_large: 'Request header fields too large',
  service_unavailable: 'Service unavailable',
  internal_error: 'Internal server error',
};

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    /** RFC 9457 extension members (e.g. `challenge` of mfa_required); the route's schema names them. */
    readonly extensions?: Record<string, string | number>,
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

/**
 * The code of a 4xx that no more precise error explains (Fastify's own errors, the HTTP parser's):
 * each status its own, so a 403 never reads as a validation failure.
 */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'header_too_large',
};

export function codeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new AppError(400, 'validation_failed', detail, errors);
export const invalidToken = (detail = 'The token is invalid, used or expired.') =>
  new AppError(400, 'invalid_token', detail);
export const weakPassword = (detail: string) =>
  new AppError(400, 'weak_password', detail, [{ path: '/password', message: detail }]);
export const unauthorized = (detail = 'Authentication is required.') =>
  new AppError(401, 'unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });
export const tokenExpired = () =>
  new AppError(401, 'token_expired', 'The access token has expired.', undefined, {
    'www-authenticate': 'Bearer error="invalid_token"',
  });
/**
 * A 401 must carry a challenge (RFC 9110 §11.6.1). The credentials that get past /auth/login's
 * refusal are in its body, but what they buy is a bearer token, so the challenge is `Bearer`, as
 * on every other 401 of the API (and as FastAPI's reference login answers).
 */
export const invalidCredentials = () =>
  new AppError(401, 'invalid_credentials', 'The email or password is incorrect.', undefined, {
    'www-authenticate': 'Bearer',
  });
export const forbidden = (detail = 'You do not have permission to do this.') =>
  new AppError(403, 'forbidden', detail);
export const notFound = (detail = 'The resource does not exist.') =>
  new AppError(404, 'not_found', detail);
export const conflict = (detail: string) => new AppError(409, 'conflict', detail);
export const invalidState = (detail: string) => new AppError(409, 'invalid_state', detail);
/** The marketplace: a quote past its validUntil, a request no longer open to quotes or acceptance. */
export const quoteExpired = (detail = 'The quote has expired.') =>
  new AppError(409, 'quote_expired', detail);
export const requestClosed = (detail = 'The request is no longer open.') =>
  new AppError(409, 'request_closed', detail);
export const reviewExists = (detail = 'You have already reviewed this booking.') =>
  new AppError(409, 'review_exists', detail);
export const reviewWindowClosed = (detail: string) =>
  new AppError(409, 'review_window_closed', detail);
export const replyExists = (detail = 'The review already has a reply.') =>
  new AppError(409, 'reply_exists', detail);
export function rateLimited(retryAfterMs: number, detail: string): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError(429, 'rate_limited', detail, undefined, { 'retry-after': String(seconds) });
}
export const serviceUnavailable = (detail = 'The service is temporarily unavailable.') =>
  new AppError(503, 'service_unavailable', detail, undefined, { 'retry-after': '1' });

/** PostgreSQL error codes we handle, reached through drizzle's wrapper (`err.cause.code`). */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
export const PG_CHECK_VIOLATION = '23514';
export const PG_INVALID_TEXT = '22P02';
/** character_not_in_repertoire: e.g. a NUL byte, which PostgreSQL text cannot hold. */
export const PG_CHARACTER_NOT_IN_REPERTOIRE = '22021';

/**
 * SQLSTATEs of contention that a retry may clear: lock_not_available (a lock_timeout passed),
 * query_canceled (the statement_timeout passed, e.g. waiting for a lock), serialization_failure
 * and deadlock_detected. The client is told to retry (503 + Retry-After), never a 500.
 */
export const PG_TRANSIENT = new Set(['55P03', '57014', '40001', '40P01']);

export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * SQLSTATEs that say the database cannot serve anyone right now, whatever the query:
 * 08xxx connection exceptions; 28xxx the role or its password refused (28000, 28P01);
 * 3D000 the database does not exist; 53xxx insufficient resources (too many connections, disk
 * full, out of memory); 57P01-57P05 shutdown, crash, cannot connect now, database dropped, idle
 * session timeout. A misconfigured DATABASE_URL is an outage to a client, never its fault.
 */
const UNAVAILABLE_SQLSTATE = /^(08|28|53)[0-9A-Z]{3}$|^3D000$|^57P0[1-5]$/;

/** Connection-level failures: the database is down or unreachable rather than the query wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (
        ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(
          code,
        )
      )
        return true;
      if (UNAVAILABLE_SQLSTATE.test(code)) return true;
    }
    if (
      typeof message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
        message,
      )
    )
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
