import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';

interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  tags?: Array<{ name: string }>;
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, Record<string, unknown>> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let t: TestContext;
let doc: Document;
let operations: Array<{ method: string; path: string; operation: Operation }>;

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  doc = res.json();
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
});
afterAll(() => t?.close());

/**
 * Every registered route as `METHOD /path/{param}`, read from Fastify's route tree (HEAD routes
 * Fastify adds by itself aside), so a route added later is checked without touching this test.
 */
function registeredRoutes(): string[] {
  const tree = t.app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const start = line.search(/[^│├└─\s]/u);
    if (start < 0) continue;
    const depth = Math.floor(start / 4);
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(start));
    const segment = match?.[1] ?? '';
    stack.length = depth;
    stack[depth] = segment;
    const methods = match?.[2]?.split(',').map((method) => method.trim()) ?? [];
    const path = stack.join('').replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of methods) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
  });

  it('is valid against the OpenAPI 3.1 specification', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('describes at least the operations endpoints', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids).toEqual(
      expect.arrayContaining(['getLiveness', 'getReadiness', 'getMetrics', 'getOpenApiDocument']),
    );
  });

  it('gives every operation tags (declared at the top), a summary and a description', () => {
    const declared = new Set((doc.tags ?? []).map((tag) => tag.name));
    for (const { method, path, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      for (const tag of operation.tags ?? [])
        expect(declared.has(tag), `${where}: ${tag}`).toBe(true);
      expect(operation.summary?.trim(), where).toBeTruthy();
      expect(operation.description?.trim(), where).toBeTruthy();
    }
  });

  it('gives every operation a unique operationId', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const [index, id] of ids.entries()) {
      expect(id, `${operations[index]?.method} ${operations[index]?.path}`).toMatch(
        /^[a-z][A-Za-z0-9]+$/,
      );
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents every error response as application/problem+json (as HTML on the pages)', () => {
    for (const { method, path, operation } of operations) {
      const page = operation.tags?.includes('pages');
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!(Number(status) >= 400 || /^[45]XX$/.test(status))) continue;
        expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual([
          page ? 'text/html' : 'application/problem+json',
        ]);
      }
    }
  });

  it('documents the pages as HTML in and out: forms posted, pages answered', () => {
    const pages = operations.filter(({ operation }) => operation.tags?.includes('pages'));
    expect(pages.map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort()).toEqual([
      'GET /confirm-email-change',
      'GET /forgot-password',
      'GET /reset-password',
      'GET /revert-email-change',
      'GET /verify-email',
      'POST /confirm-email-change',
      'POST /forgot-password',
      'POST /reset-password',
      'POST /revert-email-change',
      'POST /verify-email',
    ]);
    for (const { method, path, operation } of pages) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(Object.keys(operation.responses?.['200']?.content ?? {}), where).toEqual([
        'text/html',
      ]);
      const body = (operation as { requestBody?: { content?: object } }).requestBody;
      if (method === 'post') {
        expect(Object.keys(body?.content ?? {}), where).toEqual([
          'application/x-www-form-urlencoded',
        ]);
      }
    }
  });

  it('documents on every operation the errors any route can give (500, and 503 while closing)', () => {
    const missing = operations
      .filter(
        ({ operation }) =>
          !('500' in (operation.responses ?? {}) && '503' in (operation.responses ?? {})),
      )
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
  });

  it('lists every registered route (the docs UI aside), and nothing that is not one', () => {
    const documented = operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    const registered = registeredRoutes().filter((route) => !/^\w+ \/docs(\/|$)/.test(route));
    expect(registered.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...new Set(registered)].sort());
  });

  it('offers the OAuth2 password flow against /auth/login for the Authorize button', () => {
    const schemes = Object.values(doc.components?.securitySchemes ?? {});
    const oauth = schemes.find((scheme) => scheme.type === 'oauth2') as
      | { flows?: { password?: { tokenUrl?: string } } }
      | undefined;
    expect(oauth?.flows?.password?.tokenUrl).toBe('/auth/login');
  });
});

describe('GET /docs', () => {
  it('serves the interactive documentation as HTML', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });

  it('serves the UI’s own script', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(res.statusCode).toBe(200);
  });
});
