import { type Static, type TSchema, Type } from 'typebox';
import { ERROR_TITLES, type ErrorCode } from './errors.js';

/** Wire-schema pieces shared by every module: defined once, referenced by each route. */

const problemFields = {
  type: Type.String({ description: 'A URI naming the problem type' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'Stable snake_case error code' }),
  requestId: Type.Optional(Type.String({ description: 'The X-Request-Id of the failed request' })),
};

export const FieldError = Type.Object(
  {
    path: Type.String({ description: 'JSON pointer to the field, e.g. `/body/email`' }),
    message: Type.String(),
  },
  { title: 'FieldError' },
);

export const Problem = Type.Object(problemFields, {
  title: 'Problem',
  description: 'An RFC 9457 problem: `code` is the stable part to branch on',
});

/** The 400 answers: a Problem with the fields at fault, when there are any. */
export const ValidationProblem = Type.Object(
  {
    ...problemFields,
    errors: Type.Optional(
      Type.Array(FieldError, { description: 'Field-level validation failures' }),
    ),
  },
  { title: 'ValidationProblem', description: 'A Problem naming the fields at fault' },
);
export type ProblemBody = Static<typeof ValidationProblem>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed or malformed request',
  401: 'Missing, malformed, expired or revoked token',
  403: 'Authenticated but not allowed',
  404: 'Not found',
  406: 'The Accept header does not allow the only media type the route answers with',
  409: 'Conflict with the current state',
  412: 'If-Match names no current ETag of the resource (`precondition_failed`): it changed since it was read',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'The Idempotency-Key was already used for a different request',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

function problemResponse(status: number) {
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    content: {
      'application/problem+json': { schema: status === 400 ? ValidationProblem : Problem },
    },
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
export const Message = Type.Object(
  { message: Type.String() },
  { title: 'Message', description: 'A sentence for the user' },
);

/** A list's `cursor` parameter; `example` is a cursor of that list's shape. */
export const PageCursor = (example: string) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[A-Za-z0-9_-]+$',
      description:
        'Opaque: the `nextCursor` of the previous page, passed back unchanged. Do not build or parse it; a cursor the server did not issue is refused with 400.',
      examples: [example],
    }),
  );

export const PageQueryFields = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: PageCursor('MDE5YWU4ZjItMzQ1Ni03ODlhLWJjZGUtZjAxMjM0NTY3ODlh'),
};
export const PageQuery = Type.Object(PageQueryFields, { additionalProperties: false });

/** A page of titled items is titled too: `Page(User)` is the component `UserPage`. */
export function Page<T extends TSchema>(item: T) {
  const name = (item as { title?: string }).title;
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description:
          'Opaque; pass it as `cursor` to get the next page, unchanged. Null on the last page',
      }),
    },
    name ? { title: `${name}Page`, description: `One page of ${name} items` } : {},
  );
}

/** `{ schema, additionalProperties: false }` as the default for every request body. */
export function Strict<T extends Parameters<typeof Type.Object>[0]>(
  properties: T,
  options: { title?: string; description?: string } = {},
) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

export const bearerSecurity: Array<Record<string, string[]>> = [
  { OAuth2Password: [] },
  { BearerAuth: [] },
];
