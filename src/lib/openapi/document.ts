import { type JsonSchema, nameOperationSchemas } from './components.js';
import {
  addResponseHeaders,
  CONDITIONAL_PARAMETERS,
  HEADERS,
  IDEMPOTENCY_KEY_PARAMETER,
  NOT_MODIFIED,
  type RouteFacts,
} from './responses.js';

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/** `/users/:id` as the document writes it: `/users/{id}`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
export const routeKey = (method: string, url: string) =>
  `${method.toLowerCase()} ${openApiPath(url)}`;

interface Document {
  paths?: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, JsonSchema>; headers?: object } & Record<string, unknown>;
}

/**
 * The document @fastify/swagger built, finished for clients: named schema components, response
 * headers and descriptions. Works on a copy; the input is left as it was.
 */
export function finishDocument<T extends object>(input: T, facts: Map<string, RouteFacts>): T {
  const document = structuredClone(input) as Document;
  const schemas: Record<string, JsonSchema> = { ...document.components?.schemas };
  let idempotent = false;
  const conditional = { IfNoneMatch: false, IfMatch: false };
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      nameOperationSchemas(operation, schemas);
      const routeFacts = facts.get(`${method} ${path}`) ?? {
        rateLimited: false,
        bearer: false,
        idempotent: false,
        etag: false,
        ifMatch: false,
      };
      if (routeFacts.idempotent) {
        idempotent = true;
        const parameters = (operation.parameters ?? []) as unknown[];
        operation.parameters = [...parameters, { $ref: '#/components/parameters/IdempotencyKey' }];
      }
      if (routeFacts.etag) {
        conditional.IfNoneMatch = true;
        const parameters = (operation.parameters ?? []) as unknown[];
        operation.parameters = [...parameters, { $ref: '#/components/parameters/IfNoneMatch' }];
        operation.responses = { ...(operation.responses as object), 304: { ...NOT_MODIFIED } };
      }
      if (routeFacts.ifMatch) {
        conditional.IfMatch = true;
        const parameters = (operation.parameters ?? []) as unknown[];
        operation.parameters = [...parameters, { $ref: '#/components/parameters/IfMatch' }];
      }
      const responses = (operation.responses ?? {}) as Record<string, object>;
      for (const [status, response] of Object.entries(responses)) {
        addResponseHeaders(status, response, routeFacts);
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  const { IdempotentReplayed, ETag, ...headers } = HEADERS;
  const parameters = {
    ...(idempotent && { IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER }),
    ...(conditional.IfNoneMatch && { IfNoneMatch: CONDITIONAL_PARAMETERS.IfNoneMatch }),
    ...(conditional.IfMatch && { IfMatch: CONDITIONAL_PARAMETERS.IfMatch }),
  };
  const tagged = conditional.IfNoneMatch || conditional.IfMatch;
  document.components = {
    ...document.components,
    schemas: sorted,
    // Components only when a route uses them: an unused component is a lint error.
    ...(Object.keys(parameters).length > 0 && { parameters }),
    headers: {
      ...headers,
      ...(idempotent && { IdempotentReplayed }),
      ...(tagged && { ETag }),
    },
  };
  return document as T;
}
