import { and, eq, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type ServiceCategory, services, users } from '../../db/schema.js';
import { newestFirst, serviceColumns } from './repository.js';

export interface CatalogFilter {
  category?: ServiceCategory;
  /** Normalised as stored (see normalisePostalCode). */
  postalCode?: string;
  /** Free text; every word must appear in the title or description. */
  q?: string;
  limit: number;
  /** Id of the last service of the previous page. */
  after?: string;
}

/**
 * The catalog query, built but not run, so that a test can EXPLAIN exactly what the route runs.
 * Each condition is written so that an index can serve it: `is_active` as the partial indexes'
 * predicate, `postal_codes @> array[...]` for the GIN index on postal_codes, `search @@ tsquery`
 * for the GIN index on the generated tsvector, and the order as the indexes store it. Every value
 * is a bound parameter; plainto_tsquery reads operators in `q` as plain text.
 */
export function catalogQuery(db: Db, filter: CatalogFilter) {
  const conditions: SQL[] = [sql`${services.isActive}`];
  if (filter.category) conditions.push(eq(services.category, filter.category));
  if (filter.postalCode) {
    conditions.push(sql`${services.postalCodes} @> array[${filter.postalCode}::text]`);
  }
  if (filter.q) {
    conditions.push(sql`${services.search} @@ plainto_tsquery('simple', ${filter.q})`);
  }
  if (filter.after) conditions.push(lt(services.id, filter.after));
  return db
    .select({ ...serviceColumns, provider: { id: users.id, fullName: users.fullName } })
    .from(services)
    .innerJoin(users, and(eq(users.id, services.providerId), eq(users.isActive, true)))
    .where(and(...conditions))
    .orderBy(newestFirst)
    .limit(filter.limit);
}

/** Active services of active providers: a disabled provider's services leave at once. */
export async function listCatalog(db: Db, filter: CatalogFilter) {
  return catalogQuery(db, filter);
}
