/**
 * The headers and descriptions of every response, added to the finished document from what each
 * route does (see RouteFacts): the headers are shared components referenced with `$ref`.
 */

export interface RouteFacts {
  /** @fastify/rate-limit counts the route: RateLimit-* on its answers, Retry-After on a 429. */
  rateLimited: boolean;
  /** A bearer guard runs first. */
  bearer: boolean;
  /** The route honours Idempotency-Key (plugins/idempotency.ts): a replay says so in a header. */
  idempotent: boolean;
  /** A GET with a strong ETag that honours If-None-Match (kernel/conditional.ts): 304. */
  etag: boolean;
  /** A write that honours If-Match: 412 when stale; its 200 carries the new ETag. */
  ifMatch: boolean;
}

const header = (description: string, schema: object = { type: 'string' }) => ({
  description,
  schema,
});
const seconds = { type: 'integer', minimum: 0 };

export const HEADERS = {
  XRequestId: header(
    'The id of this request: the X-Request-Id the client sent when it was sane, otherwise a new UUID. Quote it when reporting a problem.',
  ),
  Location: header('The URL of the resource just created'),
  WWWAuthenticate: header(
    'The Bearer challenge every 401 carries: `Bearer`, or `Bearer error="invalid_token"` for an expired token',
  ),
  RetryAfter: header('Seconds to wait before trying again', seconds),
  RateLimitLimit: header('Requests allowed per window for this route and client', seconds),
  RateLimitRemaining: header('Requests left in the current window', seconds),
  RateLimitReset: header('Seconds until the window resets', seconds),
  ETag: header(
    'A strong entity tag of this representation (RFC 9110 §8.8.3). Send it back in `If-None-Match` to get 304 while it is current, or in `If-Match` to make a write fail with 412 when someone else changed the resource since.',
    { type: 'string', examples: ['"3.Xy9aQb"'] },
  ),
  IdempotentReplayed: header(
    '`true` when this answer is the replay of the first answer to the same Idempotency-Key',
    { type: 'string', enum: ['true'] },
  ),
};

/** An Idempotency-Key: 1–255 printable ASCII characters (a UUID is the usual choice). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$';

/** The request header of the routes that honour idempotency keys (plugins/idempotency.ts). */
export const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'A key of your choosing (a UUID) that makes a retry safe: the same key with the same request, within 24 hours, returns the first answer without doing the work again (`Idempotent-Replayed: true`); while the first request runs, 409 `idempotency_key_in_use`; with a different request, 422 `idempotency_key_reused`. Keys are per user.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN },
  example: '4f9c2a7e-8d1b-4c3e-9a6f-0b5d7e2c1a84',
};

/** A quoted entity-tag list, or `*` (RFC 9110 §13.1.1, §13.1.2); bounded like any header. */
const TAG_LIST = { type: 'string', maxLength: 8192, examples: ['"3.Xy9aQb"'] };

/** The request headers of conditional requests (kernel/conditional.ts). */
export const CONDITIONAL_PARAMETERS = {
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description:
      'ETags of the representation you hold (or `*`). When one names the current representation, the answer is 304 Not Modified with no body and the same ETag; otherwise the usual 200. Weak comparison.',
    schema: TAG_LIST,
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description:
      'The ETag you read (or `*`). The write happens only if it still names the current representation (strong comparison, checked atomically with the write); otherwise 412 `precondition_failed`, and nothing changes. A value that holds no current tag (a weak or malformed tag) is 412 as well. Without If-Match the write is unconditional.',
    schema: TAG_LIST,
  },
};

/** The 304 of a GET that honours If-None-Match; addResponseHeaders adds the rest. */
export const NOT_MODIFIED = {
  description:
    'Not modified: the If-None-Match names the current representation. No body; the ETag is repeated.',
};

const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

const REASONS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
};

interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<
    string,
    { schema?: { $ref?: string; type?: string; items?: { $ref?: string } } }
  >;
}

/** "OK: the User", "OK: a list of Session", from the (already named) schema of the response. */
function describe(status: string, response: Response): string {
  const reason = REASONS[status] ?? `Status ${status}`;
  const schema = Object.values(response.content ?? {})[0]?.schema;
  const name = (reference?: string) => reference?.split('/').at(-1);
  if (schema?.$ref) return `${reason}: the ${name(schema.$ref)}`;
  if (schema?.type === 'array' && schema.items?.$ref) {
    return `${reason}: a list of ${name(schema.items.$ref)}`;
  }
  return reason;
}

export function addResponseHeaders(status: string, response: Response, facts: RouteFacts) {
  if (!response.description || response.description === 'Default Response') {
    response.description = describe(status, response);
  }
  const headers: Record<string, unknown> = { 'X-Request-Id': ref('XRequestId') };
  if (status === '201') headers.Location = ref('Location');
  if (status === '401') headers['WWW-Authenticate'] = ref('WWWAuthenticate');
  if (status === '429' || status === '503') headers['Retry-After'] = ref('RetryAfter');
  const tagged =
    (facts.etag && (status === '200' || status === '304')) || (facts.ifMatch && status === '200');
  if (tagged) headers.ETag = ref('ETag');
  if (facts.idempotent && status.startsWith('2')) {
    headers['Idempotent-Replayed'] = ref('IdempotentReplayed');
  }
  if (facts.rateLimited) {
    headers['RateLimit-Limit'] = ref('RateLimitLimit');
    headers['RateLimit-Remaining'] = ref('RateLimitRemaining');
    headers['RateLimit-Reset'] = ref('RateLimitReset');
  }
  response.headers = { ...response.headers, ...headers };
}
