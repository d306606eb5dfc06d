import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { callerOf } from '../../kernel/guards.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import { serviceChanges, serviceValues } from './input.js';
import {
  changeService,
  deleteService,
  findService,
  insertService,
  listServices,
  type OnServiceWithdrawn,
  replaceService,
  type ServiceRow,
} from './repository.js';
import { Service, ServiceInput, ServiceListQuery, ServicePatch } from './schemas.js';

const OWNER_ONLY = 'Only the provider who owns it sees it: any other caller gets 404.';
const PRICE_RULE = '`priceCents` is required unless `pricingModel` is "quote" (400 otherwise).';

export interface ServicesRoutesOptions {
  /** Deactivating or deleting a service withdraws what others tie to it (the marketplace's quotes). */
  withdrawn?: { run: OnServiceWithdrawn; afterCommit(): void };
}

/** /service-providers/services: a provider's own services, active or not. */
const servicesRoutes: FastifyPluginAsyncTypebox<ServicesRoutesOptions> = async (
  app,
  { withdrawn },
) => {
  const settled = <T>(result: T): T => {
    withdrawn?.afterCommit();
    return result;
  };
  const found = <T>(row: T | undefined): T => {
    if (!row) throw notFound('No such service.');
    return row;
  };

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
      const rows = await listServices(app.db, callerOf(request).id, {
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
      const service = await insertService(
        app.db,
        callerOf(request).id,
        serviceValues(request.body),
      );
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
      schema: {
        tags: ['services'],
        summary: 'Get one of my services',
        description: OWNER_ONLY,
        operationId: 'getService',
        params: IdParams,
        response: { 200: Service, ...errors(404) },
      },
    },
    async (request) => found(await findService(app.db, callerOf(request).id, request.params.id)),
  );

  app.put(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:write'),
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
    async (request) => {
      const values = serviceValues(request.body);
      const row = await replaceService(
        app.db,
        callerOf(request).id,
        request.params.id,
        values,
        withdrawn?.run,
      );
      return settled(found(row));
    },
  );

  app.patch(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:write'),
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
    async (request) => {
      const { id } = request.params;
      const change = (current: ServiceRow) => serviceChanges(request.body, current);
      return settled(
        found(await changeService(app.db, callerOf(request).id, id, change, withdrawn?.run)),
      );
    },
  );

  app.delete(
    '/service-providers/services/:id',
    {
      onRequest: app.requirePermission('services:write'),
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
      const deleted = await deleteService(
        app.db,
        callerOf(request).id,
        request.params.id,
        withdrawn?.run,
      );
      if (!deleted) throw notFound('No such service.');
      return settled(reply.code(204).send(null));
    },
  );
};

export default servicesRoutes;
