/**
 * The headers and descriptions of every response, added to the finished document from what each
 * route does (see RouteFacts): the headers are shared components referenced with `$ref`.
 */

export interface RouteFacts {
  /** @fastify/rate-limit counts the route: RateLimit-* on its answers, Retry-After on a 429. */
  rateLimited: boolean;
  /** A bearer guard runs first. */
  bearer: boolean;
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
  if (facts.rateLimited) {
    headers['RateLimit-Limit'] = ref('RateLimitLimit');
    headers['RateLimit-Remaining'] = ref('RateLimitRemaining');
    headers['RateLimit-Reset'] = ref('RateLimitReset');
  }
  response.headers = { ...response.headers, ...headers };
}
