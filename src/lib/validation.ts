import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isEmail } from './email.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * Untrusted input stops at its first failure (`allErrors: false`): with every error collected, a
 * pattern would still run on a string that already failed `maxLength`. Ajv checks lengths before
 * patterns, so no pattern ever sees more than its field's maximum.
 */
const shared: Options = {
  allErrors: false,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
  messages: true,
};

/**
 * The one rule for text, applied to every string a request carries (body, query, path, headers):
 * no NUL, no C0 control other than the tab, no DEL, no C1 control, no lone surrogate. CR and LF
 * only where a schema says `x-multiline` (descriptions, notes). PostgreSQL refuses NUL, mails and
 * logs must not take line breaks from a name, and no client has a reason to send the rest.
 */
export const TEXT_KEYWORD = 'textChars';
export const MULTILINE = 'x-multiline';
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const ONE_LINE_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const MULTI_LINE_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function addTextKeyword(ajv: Ajv): Ajv {
  ajv.addKeyword({
    keyword: TEXT_KEYWORD,
    type: 'string',
    schemaType: 'string',
    errors: true,
    validate: function textChars(mode: string, data: string) {
      const self = textChars as unknown as { errors: unknown[] };
      const forbidden = mode === 'multiline' ? MULTI_LINE_FORBIDDEN : ONE_LINE_FORBIDDEN;
      if (forbidden.test(data)) {
        self.errors = [
          {
            keyword: TEXT_KEYWORD,
            message:
              mode === 'multiline'
                ? 'must not contain control characters'
                : 'must not contain control characters or line breaks',
            params: {},
          },
        ];
        return false;
      }
      if (LONE_SURROGATE.test(data)) {
        self.errors = [
          { keyword: TEXT_KEYWORD, message: 'must be well-formed Unicode', params: {} },
        ];
        return false;
      }
      return true;
    },
  });
  return ajv;
}

type Schema = Record<string, unknown>;

/**
 * A copy of a route schema with the text rule on every string schema in it, however nested
 * (properties, items, unions). The route's own schema stays as it is: the OpenAPI document is
 * generated from it.
 */
export function withTextRule(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withTextRule);
  if (!schema || typeof schema !== 'object') return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    // `const`, `enum`, `default` and `examples` hold values, not schemas.
    copy[key] = ['const', 'enum', 'default', 'examples'].includes(key)
      ? value
      : withTextRule(value);
  }
  const type = copy.type;
  if (type === 'string' || (Array.isArray(type) && type.includes('string'))) {
    copy[TEXT_KEYWORD] = copy[MULTILINE] === true ? 'multiline' : 'line';
  }
  return copy;
}

/**
 * ajv-formats' `email` is RFC 5322-ish; ours is the one the service canonicalises (WHATWG syntax
 * after NFKC, case folding and IDNA), so a valid body is always one canonicalEmail() accepts.
 */
const withFormats = (ajv: Ajv) => addFormats(ajv).addFormat('email', isEmail);

/** Bodies are validated exactly as sent: no coercion, no silent stripping of unknown fields. */
const bodyAjv = addTextKeyword(withFormats(new Ajv({ ...shared, coerceTypes: false })));
/** Query strings and path parameters arrive as text; numbers and booleans in them are coerced. */
const urlAjv = addTextKeyword(withFormats(new Ajv({ ...shared, coerceTypes: 'array' })));

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : urlAjv).compile(withTextRule(schema) as object);
