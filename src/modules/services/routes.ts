import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  conditionalGet,
  expectedVersions,
  notModified,
  setTag,
  versionTag,
} from '../../kernel/conditional.js';
import { callerOf } from '../../kernel/guards.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import { Service, ServiceInput, ServiceListQuery, ServicePatch } from './schemas.js';
import type { ServicesService } from './service.js';

const OWNER_ONLY = 'Only the provider who owns it sees it: any other caller gets 404.';
const PRICE_RULE = '`priceCents` is required unless `pricingModel` is "quote" (400 otherwise).';

/** /service-providers/services: a provider's own services, active or not. */
const servicesRoutes: FastifyPluginAsyncTypebox<{ services: ServicesService }> = async (
  app,
  { services },
) => {
  app.get(
    '/service-providers/services',
    {
      onRequest: app.requirePermission('services:read'),
      schema: {
        tags: ['services'],
        summary: 'List my services',
        description: 'The caller’s own services, active or not, newest first, in keyset pages.',
        operationId: 'listMyServices',
        querystring: ServiceListQuery,
        response: { 200: Page(Service), ...errors() },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await services.list(callerOf(request).id, {
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/service-providers/services',
    {
      onRequest: app.requirePermission('services:write'),
      schema: {
        tags: ['services'],
        summary: 'Publish a service',
        description: `Creates a service offered by the caller. ${PRICE_RULE} \`id\`, \`providerId\` and timestamps are the server’s: sending them is 400.`,
        operationId: 'createService',
        body: ServiceInput,
        response: { 201: Service, ...errors() },
      },
    },
    async (request, reply) => {
      const service = await services.create(callerOf(request).id, request.body);
      return reply
        .code(201)
        .header('location', `/service-providers/services/${service.id}`)
        .send(service);
    },
  );

  app.get(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:read'),
      config: { etag: true },
      schema: {
        tags: ['services'],
        summary: 'Get one of my services',
        description: OWNER_ONLY,
        operationId: 'getService',
        params: IdParams,
        response: { 200: Service, ...errors(404) },
      },
    },
    async (request, reply) => {
      const service = await services.get(callerOf(request).id, request.params.id);
      if (conditionalGet(request, reply, versionTag(service.version))) {
        return notModified(reply);
      }
      return service;
    },
  );

  app.put(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:write'),
      config: { ifMatch: true },
      schema: {
        tags: ['services'],
        summary: 'Replace one of my services',
        description: `Sets every field: a price left out becomes null, \`currency\` defaults to USD and \`isActive\` to true. ${PRICE_RULE} ${OWNER_ONLY}`,
        operationId: 'replaceService',
        params: IdParams,
        body: ServiceInput,
        response: { 200: Service, ...errors(404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const expected = expectedVersions(request);
      const service = await services.replace(callerOf(request).id, id, request.body, expected);
      setTag(reply, versionTag(service.version));
      return service;
    },
  );

  app.patch(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:write'),
      config: { ifMatch: true },
      schema: {
        tags: ['services'],
        summary: 'Update one of my services',
        description: `Changes the fields sent (at least one). The price rule holds for the result: switching to "fixed" or "hourly" needs a price. ${OWNER_ONLY}`,
        operationId: 'updateService',
        params: IdParams,
        body: ServicePatch,
        response: { 200: Service, ...errors(404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const expected = expectedVersions(request);
      const service = await services.change(callerOf(request).id, id, request.body, expected);
      setTag(reply, versionTag(service.version));
      return service;
    },
  );

  app.delete(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:write'),
      config: { ifMatch: true },
      schema: {
        tags: ['services'],
        summary: 'Delete one of my services',
        description: OWNER_ONLY,
        operationId: 'deleteService',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Service deleted' }), ...errors(404) },
      },
    },
    async (request, reply) => {
      const expected = expectedVersions(request);
      await services.delete(callerOf(request).id, request.params.id, expected);
      return reply.code(204).send(null);
    },
  );
};

export default servicesRoutes;
