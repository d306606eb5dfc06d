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
import { Property, PropertyInput, PropertyListQuery, PropertyPatch } from './schemas.js';
import type { PropertiesService } from './service.js';

const OWNER_ONLY = 'Only the owner sees it: any other caller gets 404.';

/** /homeowners/properties: a homeowner's own properties. */
const propertiesRoutes: FastifyPluginAsyncTypebox<{ properties: PropertiesService }> = async (
  app,
  { properties },
) => {
  app.get(
    '/homeowners/properties',
    {
      onRequest: app.requirePermission('properties:read'),
      schema: {
        tags: ['properties'],
        summary: 'List my properties',
        description: 'The caller’s own properties, newest first, in keyset pages.',
        operationId: 'listMyProperties',
        querystring: PropertyListQuery,
        response: { 200: Page(Property), ...errors() },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await properties.list(callerOf(request).id, {
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/homeowners/properties',
    {
      onRequest: app.requirePermission('properties:write'),
      schema: {
        tags: ['properties'],
        summary: 'Add a property',
        description:
          'Creates a property owned by the caller. `id`, `ownerId` and timestamps are the server’s: sending them is 400.',
        operationId: 'createProperty',
        body: PropertyInput,
        response: { 201: Property, ...errors() },
      },
    },
    async (request, reply) => {
      const property = await properties.create(callerOf(request).id, request.body);
      return reply
        .code(201)
        .header('location', `/homeowners/properties/${property.id}`)
        .send(property);
    },
  );

  app.get(
    '/homeowners/properties/:id',
    {
      onRequest: app.requirePermission('properties:read'),
      config: { etag: true },
      schema: {
        tags: ['properties'],
        summary: 'Get one of my properties',
        description: OWNER_ONLY,
        operationId: 'getProperty',
        params: IdParams,
        response: { 200: Property, ...errors(404) },
      },
    },
    async (request, reply) => {
      const property = await properties.get(callerOf(request).id, request.params.id);
      if (conditionalGet(request, reply, versionTag(property.version))) {
        return notModified(reply);
      }
      return property;
    },
  );

  app.put(
    '/homeowners/properties/:id',
    {
      onRequest: app.requirePermission('properties:write'),
      config: { ifMatch: true },
      schema: {
        tags: ['properties'],
        summary: 'Replace one of my properties',
        description: `Sets every field; an optional field left out becomes null. ${OWNER_ONLY}`,
        operationId: 'replaceProperty',
        params: IdParams,
        body: PropertyInput,
        response: { 200: Property, ...errors(404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const expected = expectedVersions(request);
      const property = await properties.replace(callerOf(request).id, id, request.body, expected);
      setTag(reply, versionTag(property.version));
      return property;
    },
  );

  app.patch(
    '/homeowners/properties/:id',
    {
      onRequest: app.requirePermission('properties:write'),
      config: { ifMatch: true },
      schema: {
        tags: ['properties'],
        summary: 'Update one of my properties',
        description: `Changes the fields sent (at least one); optional fields can be cleared with null. ${OWNER_ONLY}`,
        operationId: 'updateProperty',
        params: IdParams,
        body: PropertyPatch,
        response: { 200: Property, ...errors(404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const expected = expectedVersions(request);
      const property = await properties.change(callerOf(request).id, id, request.body, expected);
      setTag(reply, versionTag(property.version));
      return property;
    },
  );

  app.delete(
    '/homeowners/properties/:id',
    {
      onRequest: app.requirePermission('properties:write'),
      config: { ifMatch: true },
      schema: {
        tags: ['properties'],
        summary: 'Delete one of my properties',
        description: OWNER_ONLY,
        operationId: 'deleteProperty',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Property deleted' }), ...errors(404) },
      },
    },
    async (request, reply) => {
      const expected = expectedVersions(request);
      await properties.delete(callerOf(request).id, request.params.id, expected);
      return reply.code(204).send(null);
    },
  );
};

export default propertiesRoutes;
