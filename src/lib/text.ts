import { type TSchema, Type } from 'typebox';

/**
 * Text a person typed. The schema bounds it and refuses blank values and control characters other
 * than the tab (a NUL byte would otherwise reach PostgreSQL and fail there with a 500); handlers
 * trim it on the way in. The patterns stay linear-time on long input: a lookahead for "not only
 * spaces", then a single character class.
 */
const NOT_BLANK = '(?!\\s*$)';
const ONE_LINE = '[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]';
const MULTI_LINE = '[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]';

export const Line = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: `^${NOT_BLANK}${ONE_LINE}+$`, description });

/** Like Line, and line breaks are allowed too. */
export const Paragraph = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: `^${NOT_BLANK}${MULTI_LINE}+$`, description });

/** Postal codes worldwide: letters, digits, inner spaces and hyphens ("SW1A 1AA", "12345-6789"). */
export const PostalCode = Type.String({
  minLength: 1,
  maxLength: 16,
  pattern: '^\\s*[A-Za-z0-9](?:[A-Za-z0-9 -]{0,10}[A-Za-z0-9])?\\s*$',
  description: 'A postal code: letters, digits, inner spaces and hyphens',
  examples: ['94107'],
});

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** A body with every string trimmed (enum values are exact already, so trimming leaves them be). */
export function withTrimmedStrings<T extends object>(body: T): T {
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => [
      key,
      typeof value === 'string' ? value.trim() : value,
    ]),
  ) as T;
}
