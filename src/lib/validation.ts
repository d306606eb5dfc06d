import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isEmail } from './email.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const shared: Options = {
  allErrors: true,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
  messages: true,
};

/**
 * ajv-formats' `email` is RFC 5322-ish; ours is the one the service canonicalises (WHATWG syntax
 * after NFKC, case folding and IDNA), so a valid body is always one canonicalEmail() accepts.
 */
const withFormats = (ajv: Ajv) => addFormats(ajv).addFormat('email', isEmail);

/** Bodies are validated exactly as sent: no coercion, no silent stripping of unknown fields. */
const bodyAjv = withFormats(new Ajv({ ...shared, coerceTypes: false }));
/** Query strings and path parameters arrive as text; numbers and booleans in them are coerced. */
const urlAjv = withFormats(new Ajv({ ...shared, coerceTypes: 'array' }));

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema as object);
