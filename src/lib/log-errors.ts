/**
 * The one way an error reaches the log. It keeps what diagnoses a fault (type, message, stack,
 * codes, the names of the table, column or constraint) and nothing that can carry the data of a
 * request: an error's own fields are copied only from an allow-list, so the query parameters
 * drizzle attaches (`params`, and its message's `params:` line, which held e.g. a new account's
 * bcrypt hash), PostgreSQL's `detail` (`Key (email)=(…) already exists`), `where` and
 * `internalQuery`, and any field a driver adds tomorrow never get there.
 */

const SAFE_FIELDS = [
  'code',
  'errno',
  'syscall',
  'address',
  'port',
  'statusCode',
  'severity',
  'routine',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
] as const;

const MAX_DEPTH = 5;

/** drizzle's DrizzleQueryError message is `Failed query: <statement>\nparams: <values>`. */
function withoutParameters(message: string): string {
  const at = message.indexOf('\nparams:');
  return at === -1 ? message : `${message.slice(0, at)}\nparams: [not logged]`;
}

export function serializeError(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) {
    return typeof value === 'object' && value !== null ? '[non-error object]' : value;
  }
  const type = value.constructor?.name ?? value.name;
  const message = withoutParameters(value.message);
  const out: Record<string, unknown> = { type, message };
  if (typeof value.stack === 'string') {
    // The stack starts with the raw message; keep the frames, never that copy of it.
    const header = `${value.name}: ${value.message}`;
    out.stack = value.stack.startsWith(header)
      ? `${value.name}: ${message}${value.stack.slice(header.length)}`
      : value.stack
          .split('\n')
          .filter((line) => line.startsWith('    at '))
          .join('\n');
  }
  const fields = value as unknown as Record<string, unknown>;
  for (const field of SAFE_FIELDS) {
    const fieldValue = fields[field];
    if (typeof fieldValue === 'string' || typeof fieldValue === 'number') out[field] = fieldValue;
  }
  if (depth < MAX_DEPTH) {
    if (value.cause !== undefined) out.cause = serializeError(value.cause, depth + 1);
    if (value instanceof AggregateError) {
      out.errors = value.errors.slice(0, 5).map((inner) => serializeError(inner, depth + 1));
    }
  }
  return out;
}
