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
type Parameters = { [K in keyof Omit<CatalogFilter, 'limit'>]: CatalogFilter[K] | Placeholder } & {
  /** Written into the SQL as a literal, never a parameter: see CatalogReader. */
  limit: number;
};

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
      .limit(literal(filter.limit));
  }
  if (filter.category) conditions.push(eq(services.category, filter.category));
  if (filter.after) conditions.push(lt(services.id, filter.after));
  return db
    .select(columns)
    .from(services)
    .innerJoin(users, activeProvider)
    .where(and(...conditions))
    .orderBy(newestFirst)
    .limit(literal(filter.limit));
}

/** Drizzle binds a numeric LIMIT as a parameter; an SQL chunk goes into the text as it is. */
const literal = (rows: number) => sql.raw(String(Math.trunc(rows))) as unknown as number;

type Prepared = ReturnType<ReturnType<typeof catalogQuery>['prepare']>;
const FILTERS = ['category', 'postalCode', 'q', 'after'] as const;
/** Rows a statement fetches: a page size plus the one row that says there is more. */
const ROW_BUCKETS = [11, 21, 51, 101];

/**
 * Runs the catalog as named prepared statements, one per combination of filters present and
 * bucket of page size: PostgreSQL parses each once per connection, the SQL is built once per
 * app, and the plan is kept rather than made anew on every request (planning was most of a
 * catalog request's database time).
 *
 * The LIMIT is a literal of the statement: with `LIMIT $n` the plan PostgreSQL would keep prices
 * the scan for a tenth of the table, never beats a fresh plan, and every call is planned again.
 * A page size between buckets fetches up to the next bucket and the extra rows are dropped
 * (toPage), so a connection holds at most 16 × 4 statements. With `q` the words' frequency
 * decides between the full-text index and the ordered scan, so PostgreSQL keeps planning those
 * per call, as it chooses to.
 */
export class CatalogReader {
  readonly #db: Db;
  readonly #prepared = new Map<string, Prepared>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Active services of active providers: a disabled provider's services leave at once. */
  list(filter: CatalogFilter) {
    const rows = ROW_BUCKETS.find((bucket) => bucket >= filter.limit) ?? filter.limit;
    const present = FILTERS.filter((name) => filter[name]);
    const shape = `${present.join('_') || 'all'}_${rows}`;
    let prepared = this.#prepared.get(shape);
    if (!prepared) {
      const parameters: Parameters = { limit: rows };
      for (const name of present) Object.assign(parameters, { [name]: sql.placeholder(name) });
      prepared = catalogQuery(this.#db, parameters).prepare(`catalog_${shape}`);
      this.#prepared.set(shape, prepared);
    }
    return prepared.execute({ ...filter });
  }
}
