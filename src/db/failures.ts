/**
 * One line an operator can act on, for a failure to reach or use the database: the driver's own
 * words (the innermost error, where the cause is; drizzle wraps it in "Failed query: …"), its
 * SQLSTATE or system code, and what to check. Never the URL's password or a query parameter.
 */

const ADVICE: Array<[RegExp, string]> = [
  [/^3D000$/, 'create the database, or correct its name in DATABASE_URL'],
  [/^28P01$/, 'correct the password in DATABASE_URL'],
  [/^28/, 'correct the user in DATABASE_URL, or create that role and allow it to connect'],
  [/^42501$/, 'grant the DATABASE_URL role the privileges it needs (it must own the schema)'],
  [/^53300$/, 'the server has no free connection: lower DB_POOL_MAX or raise max_connections'],
  [/^53/, 'the database server is out of resources (disk, memory)'],
  [/^57P0[1-3]$/, 'the database server is shutting down or starting; it is retried'],
  [/^08|^ECONNRESET$|^EPIPE$/, 'the connection was lost; it is retried'],
  [/^ECONNREFUSED$/, 'nothing listens there: is PostgreSQL running, are the host and port right?'],
  [/^(ENOTFOUND|EAI_AGAIN)$/, 'the host name in DATABASE_URL does not resolve'],
  [/^(ETIMEDOUT|EHOSTUNREACH)$|^timeout$/, 'no answer in time: is the host reachable?'],
];

interface Found {
  message: string;
  code: string | undefined;
}

function innermost(error: unknown): Found {
  let found: Found = { message: String(error), code: undefined };
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const { message, code, errors } = current as {
      message?: unknown;
      code?: unknown;
      errors?: unknown;
    };
    if (typeof message === 'string' && message !== '') {
      found = {
        message,
        code: typeof code === 'string' ? code : found.code,
      };
    }
    // Node reports a refused dual-stack connect as an AggregateError without its own message.
    const next =
      (current as { cause?: unknown }).cause ?? (Array.isArray(errors) ? errors[0] : undefined);
    current = next;
  }
  return found;
}

export function describeDatabaseFailure(error: unknown): string {
  const { message, code } = innermost(error);
  // drizzle's own message, if nothing more precise lies under it: its statement, not its params.
  const text = message.split('\nparams:')[0]?.replace(/\s+/g, ' ').trim() ?? '';
  const timeout = /timeout/i.test(text) ? 'timeout' : undefined;
  const key = code ?? timeout;
  const advice = key ? ADVICE.find(([pattern]) => pattern.test(key))?.[1] : undefined;
  const label = code ? (/^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ` (${code})`) : '';
  return `${text}${label}${advice ? `: ${advice}` : ''}`;
}
