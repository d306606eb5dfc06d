import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { conditionalGet, notModified } from '../../kernel/conditional.js';
import { badRequest } from '../../lib/errors.js';
import { decodeCursor, encodeCursor, toPage } from '../../lib/pagination.js';
import { errors, Page } from '../../lib/schemas.js';
import type { CatalogReader, CatalogSort } from './catalog.js';
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
          'Active services of active providers, in keyset pages, each with its provider’s rating summary. Filters combine: `category`; `postalCode` (the service covers it); `q` (every word appears in the title or description, case-insensitively); `minRating` (the provider’s average rating is at least this; unrated providers are left out). `sort`: `newest` (the default), `rating` (the provider’s Bayesian average, so that one 5-star review does not outrank two hundred 4.8s), `relevance` (today the same ranking as `rating`), `price` (lowest amount first, whatever the currency; quote-priced services last). A cursor belongs to its sort: passing it with another is 400.',
        operationId: 'browseCatalog',
        querystring: CatalogQuery,
        response: { 200: Page(CatalogService), ...errors() },
      },
    },
    async (request, reply) => {
      const {
        category,
        postalCode,
        q,
        minRating,
        sort = 'newest',
        limit = 20,
        cursor,
      } = request.query;
      const position = decodeCatalogCursor(cursor, sort);
      const rows = await catalog.list({
        category,
        postalCode: postalCode === undefined ? undefined : normalisePostalCode(postalCode),
        q: q?.trim(),
        minRating,
        sort,
        limit: limit + 1,
        ...position,
      });
      const page = toPage(rows, limit);
      const last = page.items.at(-1);
      const answer = {
        items: page.items.map(({ sortKey: _key, ...item }) => item),
        nextCursor:
          page.nextCursor && last ? encodeCatalogCursor(sort, last.sortKey, last.id) : null,
      };
      if (conditionalGet(request, reply, catalogPageTag(answer))) return notModified(reply);
      return answer;
    },
  );
};

/**
 * A catalog cursor: the last row's id for `newest` (as everywhere), else its sort key and id
 * ("rating:4.21…:<id>"), base64url, so that the next page is one keyset range of the sort's index.
 */
function encodeCatalogCursor(sort: CatalogSort, key: number | null, id: string): string {
  if (sort === 'newest') return encodeCursor(id);
  return Buffer.from(`${sort}:${key}:${id}`, 'utf8').toString('base64url');
}

function decodeCatalogCursor(
  cursor: string | undefined,
  sort: CatalogSort,
): { after?: string; afterKey?: number } {
  if (cursor === undefined) return {};
  if (sort === 'newest') return { after: decodeCursor(cursor) };
  const [name, key, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const value = Number(key);
  if (name !== sort || key === undefined || key === '' || !Number.isFinite(value)) {
    throw badRequest('The cursor is not valid.', [
      { path: '/querystring/cursor', message: 'is not a valid cursor for this sort' },
    ]);
  }
  if (sort === 'price' && !Number.isInteger(value)) {
    throw badRequest('The cursor is not valid.', [
      { path: '/querystring/cursor', message: 'is not a valid cursor for this sort' },
    ]);
  }
  return {
    after: decodeCursor(Buffer.from(id ?? '', 'utf8').toString('base64url')),
    afterKey: value,
  };
}

export default catalogRoutes;
