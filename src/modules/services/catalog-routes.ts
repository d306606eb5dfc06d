import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { conditionalGet, notModified } from '../../kernel/conditional.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { errors, Page } from '../../lib/schemas.js';
import type { CatalogReader } from './catalog.js';
import { catalogPageTag } from './catalog-etag.js';
import { normalisePostalCode } from './input.js';
import { CatalogQuery, CatalogService } from './schemas.js';

/** GET /services: the catalog every signed-in user browses. */
const catalogRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogReader }> = async (
  app,
  { catalog },
) => {
  app.get(
    '/services',
    {
      onRequest: app.requirePermission('catalog:read'),
      config: { etag: true },
      schema: {
        tags: ['catalog'],
        summary: 'Browse the catalog',
        description:
          'Active services of active providers, newest first, in keyset pages. Filters combine: `category`; `postalCode` (the service covers it); `q` (every word appears in the title or description, case-insensitively).',
        operationId: 'browseCatalog',
        querystring: CatalogQuery,
        response: { 200: Page(CatalogService), ...errors() },
      },
    },
    async (request, reply) => {
      const { category, postalCode, q, limit = 20, cursor } = request.query;
      const rows = await catalog.list({
        category,
        postalCode: postalCode === undefined ? undefined : normalisePostalCode(postalCode),
        q: q?.trim(),
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      const page = toPage(rows, limit);
      if (conditionalGet(request, reply, catalogPageTag(page))) return notModified(reply);
      return page;
    },
  );
};

export default catalogRoutes;
