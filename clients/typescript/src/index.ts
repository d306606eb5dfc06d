import createFetchClient, { type ClientOptions, type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';

/**
 * The Homefront API client: openapi-fetch over the generated `paths`, so every URL, parameter,
 * body and answer is typed. Model types (User, Property, TokenPair…) are exported by name.
 */
export type * from './schema.js';

export function createClient(options: ClientOptions = {}) {
  return createFetchClient<paths>(options);
}

export type HomefrontClient = ReturnType<typeof createClient>;

/** Sends `Authorization: Bearer <access token>` whenever `accessToken()` returns one. */
export function bearerAuth(accessToken: () => string | undefined): Middleware {
  return {
    onRequest({ request }) {
      const token = accessToken();
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
}
