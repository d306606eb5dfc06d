import { Type } from 'typebox';
import { Strict } from '../../lib/schemas.js';
import { PASSWORD_MAX_LENGTH } from '../auth/passwords.js';
import { Email, OpaqueToken } from '../auth/schemas.js';

/**
 * The link's query. Mail clients and link trackers append parameters of their own (utm_*), so
 * others are ignored; the token's shape is checked by the handler, which answers a damaged link
 * with a page that says so.
 */
export const LinkQuery = Type.Object({
  token: Type.Optional(
    Type.String({ maxLength: 512, description: 'The one-time token from the mail' }),
  ),
});

// The body schema's own limits, so that a link the page accepts is one the POST accepts.
const opaque = OpaqueToken as unknown as { pattern: string; minLength: number; maxLength: number };
const TOKEN_SHAPE = new RegExp(opaque.pattern);
const TOKEN_MIN = opaque.minLength;
const TOKEN_MAX = opaque.maxLength;

export function isTokenShaped(token: string | undefined): token is string {
  return (
    token !== undefined &&
    token.length >= TOKEN_MIN &&
    token.length <= TOKEN_MAX &&
    TOKEN_SHAPE.test(token)
  );
}

export const VerifyForm = Strict({ token: OpaqueToken });

/** Lengths only: the handler answers a weak or mismatched password with the form again. */
export const ResetForm = Strict({
  token: OpaqueToken,
  newPassword: Type.String({ maxLength: PASSWORD_MAX_LENGTH }),
  confirmPassword: Type.String({ maxLength: PASSWORD_MAX_LENGTH }),
});

export const ForgotForm = Strict({ email: Email });

const HTML = 'text/html';
const htmlBody = (description: string) => ({
  description,
  content: { [HTML]: { schema: Type.String({ description: 'An HTML page' }) } },
});

const ERROR_PAGES: Record<number, string> = {
  400: 'A page explaining what is wrong: a damaged, used or expired link, an invalid form',
  413: 'The form is too large',
  415: 'The form was not sent as application/x-www-form-urlencoded',
  429: 'Too many requests (with Retry-After)',
  500: 'Internal error',
  503: 'Service unavailable (with Retry-After)',
};

/** Success and errors of a page route: all HTML, errors with the status a JSON route gives. */
export function pageResponses(description: string, ...statuses: number[]) {
  const all = [400, 429, 500, 503, ...statuses].sort();
  return {
    200: htmlBody(description),
    ...Object.fromEntries(all.map((status) => [status, htmlBody(ERROR_PAGES[status] ?? 'Error')])),
  };
}
