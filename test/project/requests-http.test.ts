import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';

/**
 * requests.http cannot rot: each of its requests must be a route of the app, and every route in
 * the OpenAPI document must have a request there.
 */
interface FileRequest {
  method: string;
  path: string;
}

const METHOD = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+)/;

function parseRequestsFile(text: string): FileRequest[] {
  return text
    .split(/^###.*$/m)
    .slice(1)
    .map((block) => {
      const line = block
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '' && !l.startsWith('#') && !l.startsWith('//'));
      const match = line?.match(METHOD);
      if (!match) throw new Error(`a request block without a request line: ${block.slice(0, 80)}`);
      const url = (match[2] ?? '').replace('{{baseUrl}}', '');
      return { method: match[1] ?? '', path: url.split('?')[0] ?? '' };
    });
}

/** `/homeowners/properties/{id}` as a pattern that `/homeowners/properties/{{propertyId}}` matches. */
const templatePattern = (template: string) =>
  new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);

let t: TestContext;
let operations: FileRequest[];
const requests = parseRequestsFile(
  readFileSync(new URL('../../requests.http', import.meta.url), 'utf8'),
);

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
  );
});
afterAll(() => t.close());

const routeOf = (request: FileRequest) =>
  operations.find(
    (operation) =>
      operation.method === request.method && templatePattern(operation.path).test(request.path),
  ) ??
  // Routes outside the OpenAPI document (the document itself, /docs) are in the route table.
  (t.app.hasRoute({ method: request.method as 'GET', url: request.path }) ? request : undefined);

describe('requests.http', () => {
  it('has requests, every one starting with {{baseUrl}}', () => {
    expect(requests.length).toBeGreaterThan(30);
    const text = readFileSync(new URL('../../requests.http', import.meta.url), 'utf8');
    for (const line of text.split('\n').filter((l) => METHOD.test(l))) {
      expect(line).toMatch(/^[A-Z]+ \{\{baseUrl\}\}\//);
    }
  });

  it('has only requests the app routes (method and path)', () => {
    const unknown = requests.filter((request) => routeOf(request) === undefined);
    expect(unknown).toEqual([]);
  });

  it('covers every operation of the OpenAPI document', () => {
    const missing = operations.filter(
      (operation) =>
        !requests.some(
          (request) =>
            request.method === operation.method &&
            templatePattern(operation.path).test(request.path),
        ),
    );
    expect(missing).toEqual([]);
  });

  it('catches a request the app does not have', () => {
    const [bogus] = parseRequestsFile('### x\nGET {{baseUrl}}/homeowners/houses\n');
    expect(bogus && routeOf(bogus)).toBeUndefined();
  });
});
