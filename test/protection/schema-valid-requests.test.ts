import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { sample } from 'openapi-sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, STRONG_PASSWORD, type TestUser } from '../helpers/users.js';

/**
 * Issue 13 §2, "schemas as strict as the server": requests generated from the OpenAPI document
 * alone (openapi-sampler: each schema's examples, defaults, enums and bounds; all fields, then
 * the required ones only) must pass the server's validation. A 400 answer to a schema-valid
 * request means the document allows what the server refuses, and fails this test. The 400s
 * allowed are `invalid_token`, a one-time token of the right shape that the server never issued,
 * and `invalid_code`, a 6-digit code that the user's authenticator did not show.
 */

/**
 * Adding a passkey needs the password unless the session proved a second factor in the last 10
 * minutes: a rule of the session's state that no JSON Schema can say, so the document's
 * `password` is optional and a body without it is a 400 naming it for a session without.
 */
const passwordOwed = (where: string, problem: { errors?: Array<{ path: string }> }) =>
  where === 'POST /users/me/passkeys/options' &&
  problem.errors?.length === 1 &&
  problem.errors[0]?.path === '/body/password';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
type Json = { [key: string]: unknown };
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  example?: unknown;
  schema: Json;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Json }> };
}
type Doc = Json & { paths: Record<string, Record<string, Operation>> };

/** Routes that end the caller's session or account: their requests are checked last, or not sent. */
const ENDS_SESSION = new Set(['POST /auth/logout', 'POST /auth/logout-all', 'DELETE /users/me']);

let t: TestContext;
let doc: Doc;
let caller: TestUser;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  ajv.addSchema(doc as object, 'openapi');
  // Every role, so that every route's guard lets the request through to its validation.
  caller = await loginAs(t, ['admin', 'homeowner', 'service_provider']);
});
afterAll(() => t?.close());

/** A parameter as listed, or the `#/components/parameters/…` component it refers to. */
function resolvedParameter(parameter: Parameter): Parameter {
  const ref = (parameter as { $ref?: string }).$ref;
  if (!ref) return parameter;
  const { components } = doc as unknown as {
    components: { parameters: Record<string, Parameter> };
  };
  return components.parameters[ref.replace('#/components/parameters/', '')] as Parameter;
}

/** `#/components/…` as seen from outside the document. */
function external(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
}

function checked(schema: Json, value: unknown, where: string): unknown {
  const validate = ajv.compile(external(schema) as object);
  expect(
    validate(value),
    `${where}: the sample is not schema-valid: ${ajv.errorsText(validate.errors)}
Give the schema an example the server accepts.`,
  ).toBe(true);
  return value;
}

async function resourceIds() {
  const property = await t.app.inject({
    method: 'POST',
    url: '/homeowners/properties',
    headers: caller.headers,
    payload: sample(
      { $ref: '#/components/schemas/PropertyInput' } as never,
      { quiet: true },
      doc,
    ) as object,
  });
  const service = await t.app.inject({
    method: 'POST',
    url: '/service-providers/services',
    headers: caller.headers,
    payload: sample(
      { $ref: '#/components/schemas/ServiceInput' } as never,
      { quiet: true },
      doc,
    ) as object,
  });
  expect(property.statusCode, property.body).toBe(201);
  expect(service.statusCode, service.body).toBe(201);
  return {
    '/homeowners/properties/': property.json().id as string,
    '/service-providers/services/': service.json().id as string,
    '/admin/users/': caller.id,
  };
}

describe('requests generated from the document', () => {
  it('are accepted by the server’s validation: no 400 for a schema-valid request', async () => {
    const ids = await resourceIds();
    const refused: string[] = [];
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
    );
    // Deletions last, so the resources they remove serve every other request first.
    operations.sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
    let sent = 0;
    for (const { path, method, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      // The account pages answer a token they never issued with their 400 page, the HTML twin of
      // invalid_token; their forms post what the JSON routes take, which are checked here.
      if (ENDS_SESSION.has(where) || (operation as { tags?: string[] }).tags?.includes('pages')) {
        continue;
      }
      const prefix = Object.keys(ids).find((start) => path.startsWith(start)) as
        | keyof typeof ids
        | undefined;
      const query: Record<string, string> = {};
      let url = path;
      for (const listed of operation.parameters ?? []) {
        const parameter = resolvedParameter(listed);
        // Header parameters (Idempotency-Key) are optional and not sent: one example key on
        // every operation would be a key reused for different requests.
        if (parameter.in === 'header') continue;
        const value = checked(
          parameter.schema,
          parameter.example ?? sample(parameter.schema as never, { quiet: true }, doc),
          `${where} ${parameter.name}`,
        );
        if (parameter.in === 'query') query[parameter.name] = String(value);
        if (parameter.in === 'path') {
          const id = parameter.name === 'id' && prefix ? ids[prefix] : String(value);
          url = url.replace(`{${parameter.name}}`, id);
        }
      }
      const content = operation.requestBody?.content ?? {};
      const bodies: Array<{ type?: string; body?: unknown }> = Object.keys(content).length
        ? []
        : [{}];
      for (const [type, { schema }] of Object.entries(content)) {
        const full = checked(schema, sample(schema as never, { quiet: true }, doc), where);
        bodies.push({ type, body: full });
        const minimal = sample(schema as never, { quiet: true, skipNonRequired: true }, doc);
        if (ajv.compile(external(schema) as object)(minimal)) bodies.push({ type, body: minimal });
      }
      for (const { type, body } of bodies) {
        const form = type === 'application/x-www-form-urlencoded';
        const res = await t.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          query,
          headers: { ...caller.headers, ...(type && { 'content-type': type }) },
          payload: form
            ? new URLSearchParams(body as Record<string, string>).toString()
            : body === undefined
              ? undefined
              : JSON.stringify(body),
        });
        sent++;
        if (
          res.statusCode === 400 &&
          !['invalid_token', 'invalid_code'].includes(res.json().code) &&
          !passwordOwed(where, res.json())
        ) {
          refused.push(`${where} ${JSON.stringify(body ?? query)} → ${res.body}`);
        }
      }
    }
    expect(sent).toBeGreaterThan(30);
    expect(refused).toEqual([]);
  });

  it('use a password example that is the test users’ password, so change-password is really checked', () => {
    const password = (doc.components as { schemas: Record<string, Json> }).schemas
      .ChangePasswordBody as { properties: { currentPassword: { examples: string[] } } };
    expect(password.properties.currentPassword.examples[0]).toBe(STRONG_PASSWORD);
  });
});
