import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errors } from '../lib/schemas.js';
import { VERSION } from '../lib/version.js';

export const TAGS = [
  { name: 'auth', description: 'Registration, verification, login, tokens and sessions' },
  { name: 'users', description: 'The signed-in user’s own profile' },
  { name: 'properties', description: 'Homeowners’ properties' },
  { name: 'services', description: 'Service providers’ own services' },
  { name: 'catalog', description: 'The catalog of active services' },
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
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Homefront API',
        version: VERSION,
        description:
          'The backend of the Homefront home-services marketplace. Errors are RFC 9457 problem+json with a stable `code`.',
      },
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

export default fp(openapi, { name: 'openapi' });
