import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { collectRoutes, type RegisteredRoute } from '../helpers/routes.js';

let t: TestContext;
let registeredRoutes: RegisteredRoute[];
let documented: Set<string>;
beforeAll(async () => {
  ({ built: t, routes: registeredRoutes } = await collectRoutes(() =>
    createTestApp({ noSmtp: true }),
  ));
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  documented = new Set(
    Object.entries<Record<string, unknown>>(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map(
        (method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      ),
    ),
  );
});
afterAll(() => t.close());

/** Routes a framework plugin adds: the docs page and its assets, HEAD twins, CORS preflight. */
const isInfrastructure = (method: string, url: string) =>
  method === 'HEAD' || method === 'OPTIONS' || url === '/docs' || url.startsWith('/docs/');

describe('API inventory (OWASP API9)', () => {
  it('documents every registered route', () => {
    const undocumented = registeredRoutes
      .filter((route) => !isInfrastructure(route.method, route.url))
      .map((route) => `${route.method} ${route.url}`)
      .filter((route) => !documented.has(route));
    expect(undocumented).toEqual([]);
  });

  it('registers every documented route', () => {
    const registered = new Set(registeredRoutes.map((route) => `${route.method} ${route.url}`));
    expect([...documented].filter((route) => !registered.has(route))).toEqual([]);
  });

  it('hides only the docs page assets from the document', () => {
    const hidden = registeredRoutes.filter(
      (route) => route.hidden && !isInfrastructure(route.method, route.url),
    );
    expect(hidden).toEqual([]);
  });
});
