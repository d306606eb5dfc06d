import { type TSchema, Type } from 'typebox';
import { MULTILINE } from './validation.js';

/**
 * Text a person typed. The schema bounds it and refuses blank values; the shared text rule of
 * src/lib/validation.ts refuses control characters (line breaks too, except in a Paragraph).
 * Handlers trim it on the way in. `\S` is a linear-time search, whatever the input.
 */
const NOT_BLANK = '\\S';

export const Line = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: NOT_BLANK, description });

/** Like Line, and line breaks are allowed too. */
export const Paragraph = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: NOT_BLANK, description, [MULTILINE]: true });

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
