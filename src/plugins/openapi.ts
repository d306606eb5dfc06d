import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { finishDocument, routeKey } from '../lib/openapi/document.js';
import type { RouteFacts } from '../lib/openapi/responses.js';
import { errors } from '../lib/schemas.js';
import { VERSION } from '../lib/version.js';

/** Fastify parses a body on these methods whatever the route does with it: too large is 413, an unknown type 415. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const TAGS = [
  { name: 'auth', description: 'Registration, verification, login, tokens and sessions' },
  { name: 'users', description: 'The signed-in user’s own profile' },
  {
    name: 'mfa',
    description:
      'Two-factor sign-in with an authenticator app (TOTP): enrolment, recovery codes, the second step of a sign-in, step-up',
  },
  {
    name: 'passkeys',
    description:
      'Passkeys (WebAuthn): adding and removing your own, and signing in with one, no password',
  },
  { name: 'properties', description: 'Homeowners’ properties' },
  { name: 'services', description: 'Service providers’ own services' },
  { name: 'catalog', description: 'The catalog of active services' },
  {
    name: 'marketplace',
    description: 'Job requests, the providers’ feed, quotes and bookings (docs/marketplace.md)',
  },
  {
    name: 'messages',
    description:
      'Threads between a homeowner and a provider about a job request (docs/marketplace.md#messages)',
  },
  {
    name: 'notifications',
    description: 'The signed-in user’s notifications: the list, the live stream, mail settings',
  },
  {
    name: 'reviews',
    description: 'Reviews of confirmed bookings, provider ratings and public provider profiles',
  },
  { name: 'admin', description: 'User, role and audit administration' },
  { name: 'operations', description: 'Health, readiness, metrics and this document' },
  {
    name: 'pages',
    description:
      'HTML pages that the links in mails open when PUBLIC_APP_URL is unset: forms that POST (showing a page never uses a token up), answered with pages, errors included',
  },
];

/**
 * The OpenAPI 3.1 document is generated from the same TypeBox schemas that validate requests;
 * this plugin must be registered before any route so that every route is collected.
 */
async function openapi(app: FastifyInstance) {
  const facts = new Map<string, RouteFacts>();
  // Registered after the auth and rate-limit plugins, so their onRoute hooks have run: what the
  // route can answer is read from what they attached to it, not from a list kept by hand.
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = [route.method].flat();
    const routeFacts: RouteFacts = {
      rateLimited: route.config?.rateLimit !== false,
      bearer: (route.config?.auth ?? 'public') !== 'public',
      idempotent: route.config?.idempotent === true,
      etag: route.config?.etag === true,
      ifMatch: route.config?.ifMatch === true,
    };
    for (const method of methods) facts.set(routeKey(method, route.url), routeFacts);
    if (!route.schema || route.schema.hide) return;
    if (!routeFacts.bearer) route.schema.security = [];
    if (routeFacts.idempotent) {
      // Key in flight (409) and key reused for another request (422): see plugins/idempotency.ts.
      route.schema.response = { ...errors(409, 422), ...(route.schema.response as object) };
    }
    if (routeFacts.ifMatch) {
      // A stale If-Match (kernel/conditional.ts).
      route.schema.response = { ...errors(412), ...(route.schema.response as object) };
    }
    // A route the limiter leaves alone (the probes, /metrics) never answers 429: not documented.
    if (!routeFacts.rateLimited && route.schema.response) {
      const { 429: _never, ...rest } = route.schema.response as Record<string, unknown>;
      route.schema.response = rest;
    }
    if (methods.some((method) => BODY_METHODS.has(method))) {
      const response = (route.schema.response ?? {}) as Record<string, unknown>;
      route.schema.response = { ...bodyErrors(response), ...response };
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Homefront API',
        version: VERSION,
        description:
          'The backend of the Homefront home-services marketplace. Errors are RFC 9457 problem+json with a stable `code`.',
        contact: { name: 'The Homefront maintainers' },
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [
        {
          // Relative: the /docs UI and clients call the origin that served the document.
          url: '/',
          description: 'The server that serves this document',
        },
      ],
      tags: TAGS,
      components: {
        securitySchemes: {
          OAuth2Password: {
            type: 'oauth2',
            description: 'Sign in with email (as username) and password.',
            flows: {
              password: { tokenUrl: '/auth/login', refreshUrl: '/auth/refresh', scopes: {} },
            },
          },
          BearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    transformObject: (documentObject) =>
      finishDocument((documentObject as { openapiObject: object }).openapiObject, facts),
  });

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: false, docExpansion: 'list', deepLinking: true },
    initOAuth: { usePkceWithAuthorizationCodeGrant: false },
  });

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['operations'],
        summary: 'OpenAPI document',
        description: 'This API described as OpenAPI 3.1, generated from the validating schemas.',
        operationId: 'getOpenApiDocument',
        response: {
          200: {
            description: 'The OpenAPI 3.1 document',
            type: 'object',
            additionalProperties: true,
          },
          ...errors(),
        },
      },
    },
    async () => app.swagger(),
  );
}

/** 413 and 415 as the route's other errors are written: problem+json, or HTML on the pages. */
function bodyErrors(response: Record<string, unknown>) {
  const html = Object.values(response).find(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      'content' in value &&
      Object.keys((value as { content: object }).content).includes('text/html'),
  ) as { content: object } | undefined;
  const problems = errors(413, 415) as Record<string, { description: string; content: object }>;
  if (!html) return { 413: problems[413], 415: problems[415] };
  return {
    413: { description: problems[413]?.description, content: html.content },
    415: { description: problems[415]?.description, content: html.content },
  };
}

export default fp(openapi, { name: 'openapi' });
