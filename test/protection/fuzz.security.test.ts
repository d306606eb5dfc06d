import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { dereferenced } from '../helpers/openapi.js';
import { loginAs } from '../helpers/users.js';

/**
 * Property-based fuzzing driven by the OpenAPI document itself: for every route and method,
 * valid-shaped and hostile bodies, queries and path parameters, with and without tokens.
 * Pass: no 5xx; every error is problem+json with a contract code; every 2xx JSON body matches
 * the documented response schema. Seeded, so a failure replays with the printed seed.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

const CONTRACT_CODES = new Set([
  'validation_failed',
  'invalid_token',
  'weak_password',
  'unauthorized',
  'invalid_credentials',
  'token_expired',
  'email_not_verified',
  'account_disabled',
  'forbidden',
  'not_found',
  'conflict',
  'invalid_state',
  'idempotency_key_in_use',
  'idempotency_key_reused',
  'quote_expired',
  'request_closed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'too_many_streams',
  'not_acceptable',
  'service_unavailable',
]);

/** Routes that end the caller's session or are not JSON APIs: fuzzed without a token only. */
const SESSION_ENDING = new Set(['POST /auth/logout', 'POST /auth/logout-all', 'DELETE /users/me']);
const NOT_FUZZED = new Set(['GET /metrics', 'GET /openapi.json']);

type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
};

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    "'; drop table users; --",
    '" or 1=1 --',
    '\u0000',
    '../../etc/passwd',
    '%00%27',
    '<script>alert(1)</script>',
    '${jndi:ldap://127.0.0.1/x}',
    'a & | ! :* ( )',
    '\\',
    '🏠'.repeat(50),
    ' ',
    '',
  ),
  fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}),
  fc.anything({ maxDepth: 3, withNullPrototype: true }),
  fc.constant(JSON.parse('{"__proto__": {"isAdmin": true}}')),
  fc.constant({ constructor: { prototype: { polluted: 1 } } }),
);

/** A value shaped by the schema: mostly valid, so requests get past validation to the handlers. */
function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return hostileValue;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((variant) => fromSchema(variant, depth + 1)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'email') return fc.emailAddress();
      if (typeof schema.pattern === 'string') {
        const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64;
        try {
          return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= max);
        } catch {
          // fast-check cannot generate from every regex (lookaheads); plain strings will do.
        }
      }
      return fc.string({
        minLength: (schema.minLength as number) ?? 0,
        maxLength: Math.min((schema.maxLength as number) ?? 64, 64),
      });
    }
    case 'integer':
      return fc.integer({
        min: (schema.minimum as number) ?? -1000,
        max: (schema.maximum as number) ?? 100_000,
      });
    case 'number':
      return fc.double({ noNaN: true, min: -1e6, max: 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(schema.items, depth + 1), {
        minLength: (schema.minItems as number) ?? 0,
        maxLength: Math.min((schema.maxItems as number) ?? 5, 5),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(properties).map(
        ([key, value]) => [key, fromSchema(value, depth + 1)] as const,
      );
      const record = Object.fromEntries(entries);
      return fc.record(record, { requiredKeys: [...required].filter((key) => key in properties) });
    }
    default:
      return hostileValue;
  }
}

/** Valid-shaped, or shaped and then broken: an extra field, a hostile field value, a wrong type. */
function bodyFor(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const valid = fromSchema(schema);
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), hostileValue)
        .map(([value, key, bad]) =>
          value && typeof value === 'object' && !Array.isArray(value)
            ? { ...value, [key]: bad }
            : bad,
        ),
    },
    { weight: 1, arbitrary: hostileValue },
  );
}

interface Operation {
  method: string;
  path: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string; schema: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

let t: TestContext;
let operations: Operation[] = [];
let tokens: Array<string | undefined> = [];
const ajv = (addFormatsModule as unknown as typeof addFormatsModule.default)(
  new Ajv({ strict: false, allErrors: false }),
);

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  // Walked as plain JSON Schema: the named components are inlined back where they are used.
  const doc = dereferenced((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json());
  for (const [path, methods] of Object.entries<Record<string, Omit<Operation, 'method' | 'path'>>>(
    doc.paths,
  )) {
    for (const [method, operation] of Object.entries(methods)) {
      operations.push({ method: method.toUpperCase(), path, ...operation });
    }
  }
  // The HTML pages (tag `pages`) answer errors as pages, not problem+json: test/pages covers them.
  operations = operations.filter(
    (op) => !NOT_FUZZED.has(`${op.method} ${op.path}`) && !op.tags?.includes('pages'),
  );
  const users = await Promise.all([
    loginAs(t, ['homeowner']),
    loginAs(t, ['service_provider']),
    loginAs(t, ['admin']),
    loginAs(t, ['homeowner', 'service_provider']),
  ]);
  tokens = [undefined, ...users.map((user) => user.accessToken)];
}, 120_000);
afterAll(() => t.close());

describe('fuzzing every documented operation', () => {
  it('covers the API', () => {
    expect(operations.length).toBeGreaterThan(30);
  });

  it('never answers 5xx, always answers errors as problem+json with a contract code, and keeps 2xx bodies to their schema', async () => {
    const failures: string[] = [];
    for (const operation of operations) {
      const key = `${operation.method} ${operation.path}`;
      const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
      const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query');
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      const validators = new Map(
        Object.entries(operation.responses).flatMap(([status, response]) => {
          const schema = response.content?.['application/json']?.schema;
          return schema ? [[`${key} ${status}`, ajv.compile(schema)] as const] : [];
        }),
      );
      const request = fc.record({
        path: fc.record(
          Object.fromEntries(
            pathParams.map((p) => [
              p.name,
              fc.oneof({ weight: 3, arbitrary: fromSchema(p.schema) }, hostileString),
            ]),
          ),
        ),
        query: fc.record(
          Object.fromEntries(
            queryParams.map((p) => [
              p.name,
              fc.oneof({ weight: 3, arbitrary: fromSchema(p.schema) }, hostileString),
            ]),
          ),
          { requiredKeys: [] },
        ),
        body: bodyFor(bodySchema),
        token: fc.constantFrom(...(SESSION_ENDING.has(key) ? [undefined] : tokens)),
      });

      await fc
        .assert(
          fc.asyncProperty(request, async ({ path, query, body, token }) => {
            const url =
              operation.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
                encodeURIComponent(String(path[name])),
              ) +
              (Object.keys(query).length
                ? `?${new URLSearchParams(
                    Object.entries(query).map(([k, v]): [string, string] => [
                      k,
                      typeof v === 'string' ? v : JSON.stringify(v),
                    ]),
                  )}`
                : '');
            const res = await t.app.inject({
              method: operation.method as 'GET',
              url,
              headers: token ? { authorization: `Bearer ${token}` } : {},
              ...(bodySchema
                ? {
                    payload: JSON.stringify(body),
                    headers: {
                      'content-type': 'application/json',
                      ...(token ? { authorization: `Bearer ${token}` } : {}),
                    },
                  }
                : {}),
            });
            const where = `${key} -> ${res.statusCode} ${url}`;
            if (res.statusCode >= 500) throw new Error(`5xx: ${where} ${res.body.slice(0, 300)}`);
            if (res.statusCode >= 400) {
              if (!String(res.headers['content-type']).startsWith('application/problem+json'))
                throw new Error(`not problem+json: ${where}`);
              const code = res.json().code;
              if (!CONTRACT_CODES.has(code)) throw new Error(`unknown code ${code}: ${where}`);
              return;
            }
            const validate = validators.get(`${key} ${res.statusCode}`);
            if (validate && res.body) {
              if (!validate(res.json()))
                throw new Error(`2xx body off-schema: ${where} ${ajv.errorsText(validate.errors)}`);
            }
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        )
        .catch((error: Error) => {
          const cause = /Got error: (.*)/.exec(error.message)?.[1] ?? error.message;
          failures.push(`${key}: ${cause.slice(0, 400)}`);
        });
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
