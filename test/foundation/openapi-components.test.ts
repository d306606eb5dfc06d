import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_NAMES } from '../../src/modules/rbac/schemas.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs } from '../helpers/users.js';

/** Issue 13 §2: the document as a client generator sees it. */

type Json = { [key: string]: unknown };
interface Response {
  description?: string;
  headers?: Record<string, unknown>;
}
interface Operation {
  security?: unknown[];
  responses: Record<string, Response>;
}

let t: TestContext;
let doc: Json & {
  info: Json & { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; headers: Record<string, Json> };
};
let operations: Array<{ where: string; operation: Operation }>;

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      where: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );
});
afterAll(() => t?.close());

/** Every object schema with more than three properties, wherever it sits, as canonical JSON. */
function bigObjects(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) bigObjects(item, found);
  } else if (typeof node === 'object' && node !== null) {
    const properties = (node as { properties?: unknown }).properties;
    if (typeof properties === 'object' && properties && Object.keys(properties).length > 3) {
      found.push(JSON.stringify(node));
    }
    for (const value of Object.values(node)) bigObjects(value, found);
  }
  return found;
}

describe('named components', () => {
  it('names every resource and shape a client names', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'User',
        'Property',
        'Service',
        'CatalogEntry',
        'Session',
        'TokenPair',
        'Problem',
        'ValidationProblem',
        'FieldError',
        'Role',
        'RoleName',
        'AuditEvent',
        'UserPage',
        'PropertyPage',
        'ServicePage',
        'CatalogEntryPage',
        'AuditEventPage',
        'RegisterBody',
        'LoginBody',
        'RefreshBody',
        'ResetPasswordBody',
        'PropertyInput',
        'PropertyPatch',
        'ServiceInput',
        'ServicePatch',
        'ProfileReplace',
        'ProfilePatch',
        'ChangePasswordBody',
        'GrantRoleBody',
        'UserStatusPatch',
      ]),
    );
  });

  it('inlines no schema of more than three properties twice', () => {
    const counts = new Map<string, number>();
    for (const schema of bigObjects({ paths: doc.paths, components: doc.components })) {
      counts.set(schema, (counts.get(schema) ?? 0) + 1);
    }
    const repeated = [...counts].filter(([, count]) => count > 1);
    expect(repeated.map(([schema, count]) => `${count}x ${schema.slice(0, 120)}`)).toEqual([]);
  });

  it('answers errors with the Problem components (400: ValidationProblem)', () => {
    const text = JSON.stringify(doc.paths);
    expect(text).not.toContain('"detail":{"type":"string"}');
    expect(text).toContain('"$ref":"#/components/schemas/ValidationProblem"');
  });

  it('lists as RoleName exactly the roles in the database', async () => {
    const admin = await loginAs(t, ['admin']);
    const res = await t.app.inject({ method: 'GET', url: '/admin/roles', headers: admin.headers });
    const stored = res.json().map((role: { name: string }) => role.name);
    expect([...ROLE_NAMES].sort()).toEqual([...stored].sort());
    expect(doc.components.schemas.RoleName?.enum).toEqual([...ROLE_NAMES]);
  });
});

describe('responses and operations', () => {
  it('describes every response for real, with X-Request-Id', () => {
    for (const { where, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${where} ${status}`).toBeTruthy();
        expect(response.description, `${where} ${status}`).not.toBe('Default Response');
        expect(Object.keys(response.headers ?? {}), `${where} ${status}`).toContain('X-Request-Id');
      }
    }
  });

  it('documents Location on 201, WWW-Authenticate on every 401, Retry-After on 429/503', () => {
    let created = 0;
    for (const { where, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = Object.keys(response.headers ?? {});
        if (status === '201') {
          created++;
          expect(headers, where).toContain('Location');
        }
        if (status === '401') expect(headers, where).toContain('WWW-Authenticate');
        if (status === '429' || status === '503') expect(headers, where).toContain('Retry-After');
      }
    }
    expect(created).toBeGreaterThan(0);
  });

  it('sends the documented headers: Location on a 201, RateLimit-* on a limited route', async () => {
    const owner = await loginAs(t, ['homeowner']);
    const res = await t.app.inject({
      method: 'POST',
      url: '/homeowners/properties',
      headers: owner.headers,
      payload: {
        name: 'Home',
        addressLine1: '1 Main St',
        city: 'Springfield',
        region: 'IL',
        postalCode: '62701',
        country: 'US',
        propertyType: 'condo',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toMatch(/^\/homeowners\/properties\//);
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.headers['ratelimit-limit']).toBeTruthy();
    const documented = doc.paths['/homeowners/properties']?.post?.responses['201']?.headers ?? {};
    expect(Object.keys(documented)).toEqual(
      expect.arrayContaining(['Location', 'RateLimit-Limit', 'RateLimit-Remaining']),
    );
  });

  it('says security [] on every public operation and names a scheme on every other', () => {
    for (const { where, operation } of operations) {
      expect(Array.isArray(operation.security), where).toBe(true);
    }
    expect(doc.paths['/auth/login']?.post?.security).toEqual([]);
    expect(doc.paths['/users/me']?.get?.security?.length).toBeGreaterThan(0);
  });

  it('carries servers, license, contact, and package.json’s version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(doc.info.version).toBe(pkg.version);
    expect(doc.info.license).toBeTruthy();
    expect(doc.info.contact).toBeTruthy();
    expect(doc.servers).toEqual([expect.objectContaining({ url: expect.any(String) })]);
  });
});
