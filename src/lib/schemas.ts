import { type Static, type TSchema, Type } from 'typebox';
import { ERROR_TITLES, type ErrorCode } from './errors.js';

/** Wire-schema pieces shared by every module: defined once, referenced by each route. */

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the problem type' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable snake_case error code' }),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description: 'Field-level validation failures',
      }),
    ),
    requestId: Type.Optional(
      Type.String({ description: 'The X-Request-Id of the failed request' }),
    ),
  },
  { title: 'Problem' },
);
export type ProblemBody = Static<typeof Problem>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed or malformed request',
  401: 'Missing, malformed, expired or revoked token',
  403: 'Authenticated but not allowed',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

function problemResponse(status: number) {
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    content: { 'application/problem+json': { schema: Problem } },
  };
}

/** Responses every route can give, whatever it does. */
const ALWAYS = [400, 429, 500, 503] as const;

/**
 * The error responses of a route: the ones every route can give plus those it names.
 * `errors(401, 403)` for a protected route, `errors(401, 403, 404)` for one with an `{id}`.
 */
export function errors(...statuses: number[]) {
  const all = new Set<number>([...ALWAYS, ...statuses]);
  return Object.fromEntries([...all].sort().map((status) => [status, problemResponse(status)]));
}

export function problemType(code: ErrorCode): string {
  return `urn:homefront:problem:${code}`;
}

export function problemTitle(code: ErrorCode): string {
  return ERROR_TITLES[code];
}

export const Uuid = Type.String({ format: 'uuid', maxLength: 36, description: 'A UUID' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
/** Dates leave the app as ISO 8601 strings; handlers return Date objects. */
export const Timestamp = Type.Unsafe<Date>({ type: 'string', format: 'date-time' });
export const Message = Type.Object({ message: Type.String() });

export const PageQueryFields = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
};
export const PageQuery = Type.Object(PageQueryFields, { additionalProperties: false });

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` to get the next page; null on the last page',
    }),
  });
}

/** `{ schema, additionalProperties: false }` as the default for every request body. */
export function Strict<T extends Parameters<typeof Type.Object>[0]>(properties: T) {
  return Type.Object(properties, { additionalProperties: false });
}

export const bearerSecurity: Array<Record<string, string[]>> = [
  { OAuth2Password: [] },
  { BearerAuth: [] },
];
