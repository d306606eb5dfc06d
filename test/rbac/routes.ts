import { channel } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { AuthRequirement } from '../../src/plugins/auth.js';
import { createTestApp, type TestAppOptions, type TestContext } from '../helpers/app.js';

/** One route as the app registered it, with the requirement its guard declared. */
export interface RegisteredRoute {
  method: string;
  /** Fastify's pattern: `/admin/users/:id`. */
  url: string;
  /** `METHOD /path/{param}`, as the OpenAPI document spells it. */
  key: string;
  auth: AuthRequirement;
  hasBody: boolean;
}

/**
 * Builds the real app through createTestApp and records every route it registers, with the
 * requirement the auth plugin stored in `config.auth`. Fastify announces each new instance on
 * the `fastify.initialization` diagnostics channel before any plugin or route is added, so the
 * collecting `onRoute` hook sees every route, including one added to the app next month.
 */
export async function createTestAppWithRoutes(
  options: TestAppOptions = {},
): Promise<{ t: TestContext; routes: RegisteredRoute[] }> {
  const seen: RouteOptions[] = [];
  const initialization = channel('fastify.initialization');
  const collect = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route) => {
      seen.push(route);
    });
  };
  initialization.subscribe(collect);
  let t: TestContext;
  try {
    t = await createTestApp(options);
  } finally {
    initialization.unsubscribe(collect);
  }

  const routes = seen.flatMap((route) =>
    [route.method].flat().map((method) => ({
      method: method.toUpperCase(),
      url: route.url,
      key: `${method.toUpperCase()} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`,
      // Routes registered before the auth plugin (docs, metrics) carry no requirement: no guard.
      auth: route.config?.auth ?? 'public',
      hasBody: Boolean(route.schema?.body),
    })),
  );
  // Fastify adds HEAD for every GET by itself; HEAD answers carry no body to read a code from.
  const unique = new Map(
    routes.filter((route) => route.method !== 'HEAD').map((route) => [route.key, route]),
  );
  return {
    t,
    routes: [...unique.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}
