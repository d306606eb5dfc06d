import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENEROUS_LIMITS } from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { dereferenced } from '../helpers/openapi.js';
import { loginAs, STRONG_PASSWORD } from '../helpers/users.js';

/**
 * Every operation of /openapi.json, every body field, query and path parameter, gets the inputs
 * that broke services before (issue 12): NUL, lone surrogates, CR/LF, bidi overrides, C1
 * controls, megabyte strings, 10 000-deep JSON, 1e309, duplicate keys, overlong numbers. Each in a
 * request that is otherwise valid, so it reaches as far into the service as it can.
 * Asserts: no 5xx; every 4xx is problem+json (an HTML page for the `pages` operations) with a
 * status the operation documents, or a common one, and a code that belongs to that status; no
 * request over 200 ms (of wall time and of this process's CPU time). FUZZ_SEED=<n> replays a run (the seed is printed on failure).
 *
 * The one fuzz suite of the project: part two (below) is property-based.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 1203);
const REQUEST_BOUND_MS = 200;
const MEGABYTE = 1 << 20;

/** Statuses any operation may answer whatever it documents. */
const COMMON_STATUSES = [413, 415, 429];
const CODES_BY_STATUS: Record<number, string[]> = {
  400: ['validation_failed', 'bad_request', 'invalid_token', 'invalid_code', 'weak_password'],
  401: ['unauthorized', 'invalid_credentials', 'token_expired', 'mfa_required'],
  403: [
    'forbidden',
    'email_not_verified',
    'account_disabled',
    'step_up_required',
    'mfa_enrollment_required',
  ],
  404: ['not_found'],
  406: ['not_acceptable'],
  409: [
    'conflict',
    'invalid_state',
    'idempotency_key_in_use',
    'quote_expired',
    'request_closed',
    'review_exists',
    'review_window_closed',
    'reply_exists',
  ],
  412: ['precondition_failed'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['idempotency_key_reused'],
  429: ['rate_limited', 'too_many_streams'],
};

/** Operations that end the caller's session (fuzzed without a token) or serve no JSON. */
const SESSION_ENDING = new Set(['POST /auth/logout', 'POST /auth/logout-all', 'DELETE /users/me']);

/** A small seeded generator (mulberry32): the same seed, the same requests. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(SEED);
const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;

/** Code points that break parsers, databases, mails and terminals. */
const NASTY_CODE_POINTS = [
  0x0, 0x1, 0x8, 0xb, 0xc, 0x1b, 0x7f, 0x85, 0x9f, 0x200b, 0x2028, 0x2029, 0x202a, 0x202e, 0x2066,
  0xfeff, 0xfffd, 0xffff, 0xd800, 0xdbff, 0xdc00, 0xdfff,
];

function randomNasty(): string {
  let text = '';
  const length = 1 + Math.floor(next() * 12);
  for (let index = 0; index < length; index++) {
    text +=
      next() < 0.5
        ? String.fromCharCode(pick(NASTY_CODE_POINTS))
        : String.fromCharCode(0x20 + Math.floor(next() * 0x5f));
  }
  return text;
}

/** Strings for every string, query and path slot. */
function hostileStrings(): string[] {
  return [
    '\u0000',
    'fuzz\u0000@example.com',
    '\ud800',
    'a\udc00b',
    'line\r\nInjected-Header: 1',
    '\n',
    '\u202ebidi\u202d override\u2066',
    '\u0085\u009b',
    'x'.repeat(MEGABYTE),
    `a@${'a.'.repeat(20_000)}@`,
    ' '.repeat(10_000),
    '%00',
    '../../../etc/passwd',
    "'; select pg_sleep(1); --",
    randomNasty(),
    randomNasty(),
  ];
}

/**
 * Entity-tag lists for If-Match and If-None-Match (kernel/conditional.ts parses them by hand):
 * long, thousands of tags, unterminated, obs-text, tabs, stray quotes and commas.
 */
function hostileTagLists(): string[] {
  return [
    Array.from({ length: 5000 }, (_, index) => `"${index}.x"`).join(', '),
    Array.from({ length: 5000 }, (_, index) => `W/"${index}"`).join(','),
    `"${'x'.repeat(MEGABYTE)}"`,
    'W/'.repeat(20_000),
    ','.repeat(50_000),
    '"'.repeat(10_001),
    `"${'"a"'.repeat(10_000)}`,
    '"unterminated, "also',
    '\t"a"\t,\t*\t',
    '"\xff\xfe\x80"',
    '"1.a" "2.b"',
    '* , *',
    '"2147483648.x", "-1.x", "01.x", "1e3.x"',
    randomNasty().replace(/[^\t\x20-\x7e\x80-\xff]/g, '"'),
  ];
}

/** JSON values for every body field, some only writable as raw text (see `rawFieldValues`). */
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  Number.MAX_SAFE_INTEGER + 2,
  1e300,
  -1e300,
  [],
  {},
  ['\u0000'],
];

/** Field values only raw JSON text can carry. */
const RAW_FIELD_VALUES = [
  '1e309',
  '-1e309',
  '123456789012345678901234567890123456789012345678901234567890',
  `0.${'1'.repeat(1000)}`,
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `{"__proto__":{"admin":true}}`,
  '"\\ud800"',
  '"\\u0000"',
];

type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  examples?: unknown[];
};

const ajv = (addFormatsModule as unknown as typeof addFormatsModule.default)(
  new Ajv({ strict: false }),
);
const STRING_CANDIDATES = [
  'Fuzz text',
  'fuzz@example.com',
  '555 0100',
  '94107',
  'US',
  'USD',
  'homeowner',
  'aaaaaaaaaaaaaaaaaaaaaaaa',
];

/** A valid value for a schema, so that a request fails (if at all) on the hostile slot only. */
function validValue(schema: JsonSchema | undefined, name = ''): unknown {
  if (!schema) return 'x';
  // The caller's own password: a password change or a login gets past the password check.
  if (/password/i.test(name)) return STRONG_PASSWORD;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.examples?.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.anyOf) {
    const variant = schema.anyOf.find((option) => option.type !== 'null') ?? schema.anyOf[0];
    return validValue(variant, name);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid') return randomUUID();
      const check = ajv.compile(schema);
      return STRING_CANDIDATES.find((candidate) => check(candidate)) ?? 'x';
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? Math.max(schema.minimum, 1) : 1;
    case 'boolean':
      return true;
    case 'array':
      return [validValue(schema.items)];
    case 'object': {
      const required = new Set(schema.required ?? []);
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([name]) => required.has(name))
          .map(([field, property]) => [field, validValue(property, field)]),
      );
    }
    default:
      return null;
  }
}

interface Operation {
  key: string;
  method: string;
  path: string;
  pages: boolean;
  statuses: Set<number>;
  parameters: Array<{ in: string; name: string; schema: JsonSchema }>;
  bodyType: string | undefined;
  bodySchema: JsonSchema | undefined;
}

interface Probe {
  operation: Operation;
  slot: string;
  path: Record<string, string>;
  query: Record<string, string>;
  /** Header parameters (Idempotency-Key). */
  headers?: Record<string, string>;
  /** The raw body text. */
  body: string | undefined;
}

function url(operation: Operation, path: Record<string, string>, query: Record<string, string>) {
  const filled = operation.path.replace(/\{(\w+)\}/g, (_match, name: string) =>
    encodeUnsafe(path[name] ?? ''),
  );
  const search = Object.entries(query)
    .map(([name, value]) => `${name}=${encodeUnsafe(value)}`)
    .join('&');
  return search ? `${filled}?${search}` : filled;
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes as its raw bytes. */
function encodeUnsafe(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value
      .replace(/[\ud800-\udfff]/g, '%ED%A0%80')
      .replace(/[^%\w]/g, (char) => encodeURIComponent(char));
  }
}

function bodyText(operation: Operation, body: unknown): string {
  if (operation.bodyType === 'application/x-www-form-urlencoded') {
    return Object.entries(body as Record<string, unknown>)
      .map(([name, value]) => `${name}=${encodeUnsafe(String(value))}`)
      .join('&');
  }
  return JSON.stringify(body);
}

function* probesFor(operation: Operation): Generator<Probe> {
  const validPath = Object.fromEntries(
    operation.parameters
      .filter((parameter) => parameter.in === 'path')
      .map((parameter) => [parameter.name, String(validValue(parameter.schema, parameter.name))]),
  );
  const base = operation.bodySchema ? validValue(operation.bodySchema) : undefined;
  const baseBody = base === undefined ? undefined : bodyText(operation, base);
  const form = operation.bodyType === 'application/x-www-form-urlencoded';

  for (const parameter of operation.parameters) {
    const conditional = /^if-(none-)?match$/i.test(parameter.name);
    for (const value of [...hostileStrings(), ...(conditional ? hostileTagLists() : [])]) {
      const slot = `${parameter.in} ${parameter.name}`;
      if (parameter.in === 'header') {
        // Only what a client can put in a header at all: no line breaks, no NUL, no UTF-16.
        if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) continue;
        yield {
          operation,
          slot,
          path: validPath,
          query: {},
          headers: { [parameter.name]: value },
          body: baseBody,
        };
      } else if (parameter.in === 'path') {
        yield {
          operation,
          slot,
          path: { ...validPath, [parameter.name]: value },
          query: {},
          body: baseBody,
        };
      } else {
        yield {
          operation,
          slot,
          path: validPath,
          query: { [parameter.name]: value },
          body: baseBody,
        };
      }
    }
  }
  if (!operation.bodySchema || !base || typeof base !== 'object') return;
  const variants = operation.bodySchema.anyOf ?? [operation.bodySchema];
  const fields = new Set(variants.flatMap((variant) => Object.keys(variant.properties ?? {})));
  for (const field of fields) {
    const slot = `body ${field}`;
    for (const value of [...hostileStrings(), ...(form ? [] : HOSTILE_VALUES)]) {
      yield {
        operation,
        slot,
        path: validPath,
        query: {},
        body: bodyText(operation, { ...base, [field]: value }),
      };
    }
    if (form) continue;
    const rest = JSON.stringify(base).slice(1, -1);
    for (const raw of RAW_FIELD_VALUES) {
      yield {
        operation,
        slot,
        path: validPath,
        query: {},
        body: `{${rest}${rest ? ',' : ''}"${field}":${raw}}`,
      };
    }
    // A duplicate key: the valid value first, then a hostile one.
    if (rest)
      yield {
        operation,
        slot: `${slot} (duplicate)`,
        path: validPath,
        query: {},
        body: `{${rest},"${field}":"\\u0000"}`,
      };
  }
  if (form) return;
  for (const raw of RAW_FIELD_VALUES) {
    yield { operation, slot: 'body (whole)', path: validPath, query: {}, body: raw };
  }
}

let t: TestContext;
let token = '';
const operations: Operation[] = [];

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true, env: GENEROUS_LIMITS });
  token = (await loginAs(t, ['homeowner', 'service_provider', 'admin'])).accessToken;
  // Walked as plain JSON Schema: the named components are inlined back where they are used.
  const doc = dereferenced((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json());
  for (const [path, methods] of Object.entries<Record<string, Record<string, unknown>>>(
    doc.paths,
  )) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = (
        operation.requestBody as { content?: Record<string, { schema: JsonSchema }> }
      )?.content;
      const bodyType = content
        ? (Object.keys(content).find((type) => type !== 'application/x-www-form-urlencoded') ??
          Object.keys(content)[0])
        : undefined;
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pages: ((operation.tags as string[]) ?? []).includes('pages'),
        statuses: new Set(Object.keys(operation.responses as object).map(Number)),
        parameters: (operation.parameters as Operation['parameters']) ?? [],
        bodyType,
        bodySchema: bodyType ? content?.[bodyType]?.schema : undefined,
      });
    }
  }
}, 120_000);
afterAll(() => t.close());

async function send(probe: Probe) {
  const { operation } = probe;
  const headers: Record<string, string> = {};
  if (!SESSION_ENDING.has(operation.key)) headers.authorization = `Bearer ${token}`;
  if (probe.body !== undefined) headers['content-type'] = operation.bodyType ?? 'application/json';
  Object.assign(headers, probe.headers);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const res = await t.app.inject({
    method: operation.method as 'GET',
    url: url(operation, probe.path, probe.query),
    headers,
    ...(probe.body !== undefined && { payload: probe.body }),
  });
  const used = process.cpuUsage(cpu);
  return { res, ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** What is wrong with the answer to a probe, or undefined. */
function judge(probe: Probe, res: Awaited<ReturnType<typeof send>>['res']): string | undefined {
  const { operation } = probe;
  if (res.statusCode >= 500) return `${res.statusCode} ${res.body.slice(0, 200)}`;
  if (res.statusCode < 400) return undefined;
  if (!operation.statuses.has(res.statusCode) && !COMMON_STATUSES.includes(res.statusCode)) {
    return `undocumented status ${res.statusCode}`;
  }
  const type = String(res.headers['content-type']);
  if (operation.pages) {
    return type.startsWith('text/html') ? undefined : `a page answered ${type}`;
  }
  if (!type.startsWith('application/problem+json')) return `not problem+json: ${type}`;
  const code = res.json().code;
  if (!CODES_BY_STATUS[res.statusCode]?.includes(code)) {
    return `code ${code} for status ${res.statusCode}`;
  }
  return undefined;
}

describe(`fuzzing every operation with hostile input (FUZZ_SEED=${SEED})`, () => {
  it('covers every operation of the document', () => {
    expect(operations.length).toBeGreaterThan(40);
  });

  it('answers no 5xx, only documented problems, each within 200 ms', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const operation of operations) {
      for (const probe of probesFor(operation)) {
        count++;
        let { res, ms, cpuMs } = await send(probe);
        // Wall time is what a client waits; on cores shared with other processes it also counts
        // their turns, so a request over the bound must be over it in this process's own CPU time
        // too. Retries separate a slow path (slow every time) from a pause; the fastest counts.
        for (let retry = 0; retry < 2 && ms > REQUEST_BOUND_MS; retry++) {
          const again = await send(probe);
          if (again.ms < ms) ({ res, ms, cpuMs } = again);
        }
        const where = `${operation.key} [${probe.slot}] ${JSON.stringify(probe.body?.slice(0, 60) ?? url(operation, probe.path, probe.query).slice(0, 80))}`;
        const wrong = judge(probe, res);
        if (wrong) failures.push(`${where}: ${wrong}`);
        if (ms > REQUEST_BOUND_MS && cpuMs > REQUEST_BOUND_MS) {
          failures.push(`${where}: took ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms of CPU)`);
        }
      }
    }
    expect(count).toBeGreaterThan(1000);
    expect(failures.join('\n'), `FUZZ_SEED=${SEED}: ${failures.length} of ${count} requests`).toBe(
      '',
    );
    // The marketplace (issue 16) added 21 operations to the ~55 before it: the budget grew with them.
  }, 600_000);
});

/*
 * Part two, property-based (fast-check), driven by the same document: for every route and method,
 * valid-shaped and hostile bodies, queries and path parameters, by every kind of caller.
 * Pass: no 5xx; every error is problem+json with a contract code; every 2xx JSON body matches the
 * documented response schema. Seeded, so a failure replays with the printed seed.
 */

const PROPERTY_SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const PROPERTY_RUNS = Number(process.env.FUZZ_RUNS ?? 200);

const CONTRACT_CODES = new Set([
  'validation_failed',
  'invalid_token',
  'invalid_code',
  'weak_password',
  'unauthorized',
  'invalid_credentials',
  'token_expired',
  'email_not_verified',
  'account_disabled',
  'forbidden',
  'mfa_required',
  'step_up_required',
  'mfa_enrollment_required',
  'not_found',
  'not_acceptable',
  'conflict',
  'invalid_state',
  'idempotency_key_in_use',
  'idempotency_key_reused',
  'precondition_failed',
  'quote_expired',
  'request_closed',
  'review_exists',
  'review_window_closed',
  'reply_exists',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'too_many_streams',
  'service_unavailable',
]);

/** Not JSON APIs: left out of the property-based part. */
const NOT_PROPERTY_FUZZED = new Set(['GET /metrics', 'GET /openapi.json']);

type ShapeSchema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, ShapeSchema>;
  required?: string[];
  items?: ShapeSchema;
  anyOf?: ShapeSchema[];
  oneOf?: ShapeSchema[];
  enum?: unknown[];
  const?: unknown;
};

const arbitraryHostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    "'; drop table users; --",
    '" or 1=1 --',
    '\u0000',
    '../../etc/passwd',
    '%00%27',
    '<script>alert(1)</script>',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, literally
    '${jndi:ldap://127.0.0.1/x}',
    'a & | ! :* ( )',
    '\\',
    '🏠'.repeat(50),
    ' ',
    '',
  ),
  fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n)),
);

const arbitraryHostileValue: fc.Arbitrary<unknown> = fc.oneof(
  arbitraryHostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}),
  fc.anything({ maxDepth: 3, withNullPrototype: true }),
  fc.constant(JSON.parse('{"__proto__": {"isAdmin": true}}')),
  fc.constant({ constructor: { prototype: { polluted: 1 } } }),
);

/** A value shaped by the schema: mostly valid, so requests get past validation to the handlers. */
function arbitraryFromSchema(schema: ShapeSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return arbitraryHostileValue;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants)
    return fc.oneof(...variants.map((variant) => arbitraryFromSchema(variant, depth + 1)));
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
      return fc.array(arbitraryFromSchema(schema.items, depth + 1), {
        minLength: (schema.minItems as number) ?? 0,
        maxLength: Math.min((schema.maxItems as number) ?? 5, 5),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(properties).map(
        ([key, value]) => [key, arbitraryFromSchema(value, depth + 1)] as const,
      );
      const record = Object.fromEntries(entries);
      return fc.record(record, { requiredKeys: [...required].filter((key) => key in properties) });
    }
    default:
      return arbitraryHostileValue;
  }
}

/** Valid-shaped, or shaped and then broken: an extra field, a hostile field value, a wrong type. */
function arbitraryBody(schema: ShapeSchema | undefined): fc.Arbitrary<unknown> {
  const valid = arbitraryFromSchema(schema);
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), arbitraryHostileValue)
        .map(([value, key, bad]) =>
          value && typeof value === 'object' && !Array.isArray(value)
            ? { ...value, [key]: bad }
            : bad,
        ),
    },
    { weight: 1, arbitrary: arbitraryHostileValue },
  );
}

interface DocumentOperation {
  method: string;
  path: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string; schema: ShapeSchema }>;
  requestBody?: { content?: Record<string, { schema: ShapeSchema }> };
  responses: Record<string, { content?: Record<string, { schema: ShapeSchema }> }>;
}

const responseAjv = (addFormatsModule as unknown as typeof addFormatsModule.default)(
  new Ajv({ strict: false, allErrors: false }),
);

describe(`property-based fuzzing of every documented operation (FUZZ_SEED=${PROPERTY_SEED})`, () => {
  let documentOperations: DocumentOperation[] = [];
  let roleTokens: Array<string | undefined> = [];

  beforeAll(async () => {
    // Walked as plain JSON Schema: the named components are inlined back where they are used.
    const doc = dereferenced((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json());
    for (const [path, methods] of Object.entries<
      Record<string, Omit<DocumentOperation, 'method' | 'path'>>
    >(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        documentOperations.push({ method: method.toUpperCase(), path, ...operation });
      }
    }
    // The HTML pages (tag `pages`) answer errors as pages, not problem+json: test/pages covers them.
    documentOperations = documentOperations.filter(
      (op) => !NOT_PROPERTY_FUZZED.has(`${op.method} ${op.path}`) && !op.tags?.includes('pages'),
    );
    const users = await Promise.all([
      loginAs(t, ['homeowner']),
      loginAs(t, ['service_provider']),
      loginAs(t, ['admin']),
      loginAs(t, ['homeowner', 'service_provider']),
    ]);
    roleTokens = [undefined, ...users.map((user) => user.accessToken)];
  }, 120_000);

  it('covers the API', () => {
    expect(documentOperations.length).toBeGreaterThan(30);
  });

  it('never answers 5xx, always answers errors as problem+json with a contract code, and keeps 2xx bodies to their schema', async () => {
    const failures: string[] = [];
    for (const operation of documentOperations) {
      const key = `${operation.method} ${operation.path}`;
      const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
      const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query');
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      const validators = new Map(
        Object.entries(operation.responses).flatMap(([status, response]) => {
          const schema = response.content?.['application/json']?.schema;
          return schema ? [[`${key} ${status}`, responseAjv.compile(schema)] as const] : [];
        }),
      );
      const request = fc.record({
        path: fc.record(
          Object.fromEntries(
            pathParams.map((p) => [
              p.name,
              fc.oneof(
                { weight: 3, arbitrary: arbitraryFromSchema(p.schema) },
                arbitraryHostileString,
              ),
            ]),
          ),
        ),
        query: fc.record(
          Object.fromEntries(
            queryParams.map((p) => [
              p.name,
              fc.oneof(
                { weight: 3, arbitrary: arbitraryFromSchema(p.schema) },
                arbitraryHostileString,
              ),
            ]),
          ),
          { requiredKeys: [] },
        ),
        body: arbitraryBody(bodySchema),
        token: fc.constantFrom(...(SESSION_ENDING.has(key) ? [undefined] : roleTokens)),
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
                throw new Error(
                  `2xx body off-schema: ${where} ${responseAjv.errorsText(validate.errors)}`,
                );
            }
          }),
          { seed: PROPERTY_SEED, numRuns: PROPERTY_RUNS, endOnFailure: true },
        )
        .catch((error: Error) => {
          const cause = /Got error: (.*)/.exec(error.message)?.[1] ?? error.message;
          failures.push(`${key}: ${cause.slice(0, 400)}`);
        });
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
