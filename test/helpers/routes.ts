import { channel } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';

/** One route as the app registered it. What it requires is for the contract table to say. */
export interface RegisteredRoute {
  method: string;
  /** Fastify's pattern: `/admin/users/:id`. */
  url: string;
  /** `METHOD /path/{param}`, as the OpenAPI document spells it. */
  key: string;
  hasBody: boolean;
  /** Left out of the OpenAPI document (`schema.hide`). */
  hidden: boolean;
  /** Declares app.requireStepUp. */
  stepUp: boolean;
  /** Open to a user whom MFA_REQUIRED_ROLES obliges to enrol first. */
  beforeMfaEnrolment: boolean;
}

/** `METHOD /path/{param}` from Fastify's `/path/:param`. */
export const routeKey = (method: string, url: string) =>
  `${method.toUpperCase()} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;

/**
 * Runs `build` (which builds an app) and records every route that app registers. Fastify announces
 * each new instance on the `fastify.initialization` diagnostics channel before any plugin or route
 * is added, so the collecting `onRoute` hook sees every route, including one added next month,
 * without the app keeping a list for the tests.
 */
export async function collectRoutes<T>(
  build: () => Promise<T>,
): Promise<{ built: T; routes: RegisteredRoute[] }> {
  const seen: RouteOptions[] = [];
  const initialization = channel('fastify.initialization');
  const collect = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route) => {
      seen.push(route);
    });
  };
  initialization.subscribe(collect);
  let built: T;
  try {
    built = await build();
  } finally {
    initialization.unsubscribe(collect);
  }

  const routes = seen.flatMap((route) =>
    [route.method].flat().map((method) => ({
      method: method.toUpperCase(),
      url: route.url,
      key: routeKey(method, route.url),
      hasBody: Boolean(route.schema?.body),
      hidden: Boolean(route.schema?.hide),
      stepUp: Boolean(route.config?.stepUp),
      beforeMfaEnrolment: Boolean(route.config?.beforeMfaEnrolment),
    })),
  );
  // Fastify adds HEAD for every GET by itself; HEAD answers carry no body to read a code from.
  const unique = new Map(
    routes.filter((route) => route.method !== 'HEAD').map((route) => [route.key, route]),
  );
  return {
    built,
    routes: [...unique.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}
