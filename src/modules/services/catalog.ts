import { and, desc, eq, lt, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type ServiceCategory, serviceAreas, services, users } from '../../db/schema.js';
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

/** A filter whose values are either given or left as placeholders of a prepared statement. */
type Parameters = { [K in keyof CatalogFilter]: CatalogFilter[K] | Placeholder };

const columns = { ...serviceColumns, provider: { id: users.id, fullName: users.fullName } };
const activeProvider = and(eq(users.id, services.providerId), sql`${users.isActive}`);

/**
 * The catalog query, built but not run, so that a test can EXPLAIN exactly what the route runs.
 * Each condition is written so that an index can serve it and its order:
 * - with a `postalCode`, the read starts in service_areas, whose btree keys (postal code[,
 *   category], service id) hand out the matches already in catalog order;
 * - without one, the partial indexes on active services, (id desc) or (category, id desc);
 * - `q` as `search @@ tsquery`, for the GIN index on the generated tsvector when the words are rare.
 * Every value is a bound parameter; plainto_tsquery reads operators in `q` as plain text.
 */
export function catalogQuery(db: Db, filter: Parameters) {
  const conditions: SQL[] = [sql`${services.isActive}`];
  if (filter.q) {
    conditions.push(sql`${services.search} @@ plainto_tsquery('simple', ${filter.q})`);
  }
  if (filter.postalCode) {
    conditions.push(eq(serviceAreas.postalCode, filter.postalCode));
    if (filter.category) conditions.push(eq(serviceAreas.category, filter.category));
    if (filter.after) conditions.push(lt(serviceAreas.serviceId, filter.after));
    return db
      .select(columns)
      .from(serviceAreas)
      .innerJoin(services, eq(services.id, serviceAreas.serviceId))
      .innerJoin(users, activeProvider)
      .where(and(...conditions))
      .orderBy(desc(serviceAreas.serviceId))
      .limit(filter.limit);
  }
  if (filter.category) conditions.push(eq(services.category, filter.category));
  if (filter.after) conditions.push(lt(services.id, filter.after));
  return db
    .select(columns)
    .from(services)
    .innerJoin(users, activeProvider)
    .where(and(...conditions))
    .orderBy(newestFirst)
    .limit(filter.limit);
}

type Prepared = ReturnType<ReturnType<typeof catalogQuery>['prepare']>;
const FILTERS = ['category', 'postalCode', 'q', 'after'] as const;

/**
 * Runs the catalog as named prepared statements, one per combination of filters present (16 at
 * most): PostgreSQL parses and plans each once per connection instead of on every request,
 * which was most of a catalog request's database time, and the SQL is built once per app.
 */
export class CatalogReader {
  readonly #db: Db;
  readonly #prepared = new Map<string, Prepared>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Active services of active providers: a disabled provider's services leave at once. */
  list(filter: CatalogFilter) {
    const present = FILTERS.filter((name) => filter[name]);
    const shape = present.join('_') || 'all';
    let prepared = this.#prepared.get(shape);
    if (!prepared) {
      const parameters: Parameters = { limit: sql.placeholder('limit') };
      for (const name of present) Object.assign(parameters, { [name]: sql.placeholder(name) });
      prepared = catalogQuery(this.#db, parameters).prepare(`catalog_${shape}`);
      this.#prepared.set(shape, prepared);
    }
    return prepared.execute({ ...filter });
  }
}
