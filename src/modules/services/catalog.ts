import { and, desc, eq, gte, lt, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type ServiceCategory, serviceAreas, services, users } from '../../db/schema.js';
import { literalLimit, PreparedStatements, placeholder, rowBucket } from '../../lib/prepared.js';
import { newestFirst, serviceColumns } from './repository.js';

/**
 * The catalog's orders: `newest` (the default), `rating` by the provider's Bayesian average,
 * `relevance` (today the same ranking as `rating`: the Bayesian average, then newest), `price`
 * from the lowest amount (quote-priced services last).
 */
export const CATALOG_SORTS = ['relevance', 'rating', 'price', 'newest'] as const;
export type CatalogSort = (typeof CATALOG_SORTS)[number];
/** Quote-priced services (no price) sort after every priced one: the index's expression. */
const PRICE_LAST = 2147483647;
const priceKey = sql<number>`coalesce(${services.priceCents}, ${sql.raw(String(PRICE_LAST))})`;

export interface CatalogFilter {
  category?: ServiceCategory;
  sort?: CatalogSort;
  /** Providers whose average rating is at least this (unrated ones are left out). */
  minRating?: number;
  /** The sort key of the last service of the previous page (sort rating, relevance, price). */
  afterKey?: number;
  /** Normalised as stored (see normalisePostalCode). */
  postalCode?: string;
  /** Free text; every word must appear in the title or description. */
  q?: string;
  limit: number;
  /** Id of the last service of the previous page. */
  after?: string;
}

/** A filter whose values are either given or left as placeholders of a prepared statement. */
type Parameters = {
  [K in keyof Omit<CatalogFilter, 'limit' | 'sort'>]: CatalogFilter[K] | Placeholder;
} & {
  /** A literal of the SQL, never a parameter: see literalLimit (src/lib/prepared.ts). */
  limit: number;
  /** Chooses the statement, never a parameter. */
  sort?: CatalogSort;
};

const columns = {
  ...serviceColumns,
  provider: { id: users.id, fullName: users.fullName },
  rating: {
    count: services.ratingCount,
    average: sql<number | null>`round(${services.ratingAverage}::numeric, 2)::float8`,
  },
};
const activeProvider = and(eq(users.id, services.providerId), sql`${users.isActive}`);

/**
 * The catalog query, built but not run, so that a test can EXPLAIN exactly what the route runs.
 * Each condition is written so that an index can serve it and its order:
 * - with a `postalCode`, the read starts in service_areas, whose btree keys (postal code[,
 *   category], service id) hand out the matches already in catalog order;
 * - without one, the partial indexes on active services, (id desc) or (category, id desc);
 * - `q` as `search @@ tsquery` on the generated tsvector: a bounded walk of the first services in
 *   the page's order, then the GIN index for the rest (boundedSearch); in the other orders with a
 *   postal code, a category or a minimum rating, the planner's choice with those filters.
 * Every value is a bound parameter; plainto_tsquery reads operators in `q` as plain text.
 */
export function catalogQuery(db: Db, filter: Parameters) {
  const sort = filter.sort ?? 'newest';
  const conditions: SQL[] = [sql`${services.isActive}`];
  if (filter.minRating !== undefined) {
    conditions.push(gte(services.ratingAverage, sql`${filter.minRating}::float8`));
  }
  if (sort === 'newest' && filter.postalCode) {
    if (filter.q) conditions.push(matches(filter.q));
    conditions.push(eq(serviceAreas.postalCode, filter.postalCode));
    if (filter.category) conditions.push(eq(serviceAreas.category, filter.category));
    if (filter.after) conditions.push(lt(serviceAreas.serviceId, filter.after));
    return db
      .select({ ...columns, sortKey: sql<null>`null` })
      .from(serviceAreas)
      .innerJoin(services, eq(services.id, serviceAreas.serviceId))
      .innerJoin(users, activeProvider)
      .where(and(...conditions))
      .orderBy(desc(serviceAreas.serviceId))
      .limit(literalLimit(filter.limit));
  }
  const areas = filter.postalCode
    ? and(
        eq(serviceAreas.serviceId, services.id),
        eq(serviceAreas.postalCode, filter.postalCode),
        ...(filter.category ? [eq(serviceAreas.category, filter.category)] : []),
      )
    : undefined;
  if (filter.category && !areas) conditions.push(eq(services.category, filter.category));
  const order = ORDERS[sort];
  if (filter.after) conditions.push(order.after(filter.afterKey, filter.after));
  if (filter.q) {
    // The walk is bounded where the order's index reads every other condition as its range
    // (newest order has a category index too). A postal code, a category or a minimum rating in
    // the other orders is a filter the planner weighs with q: it then reads the GIN index for
    // a rare word (0.2 ms on 100,000 services, where the bounded walk took 22 ms).
    const walkable = sort === 'newest' || (!filter.category && filter.minRating === undefined);
    conditions.push(
      areas || !walkable
        ? matches(filter.q)
        : boundedSearch(conditions, filter.q, filter.limit, order),
    );
  }
  const query = db
    .select({ ...columns, sortKey: order.key })
    .from(services)
    .innerJoin(users, activeProvider)
    .$dynamic();
  return (areas ? query.innerJoin(serviceAreas, areas) : query)
    .where(and(...conditions))
    .orderBy(...order.by)
    .limit(literalLimit(filter.limit));
}

const matches = (q: string | Placeholder) =>
  sql`${services.search} @@ plainto_tsquery('simple', ${q})`;

/**
 * Services the catalog's ordered walk reads for a `q` before it turns to the full-text index.
 */
export const SEARCH_WALK = 1000;

/**
 * `q` as a bounded walk in the page's order with the GIN index below it: the services matching
 * q among the first SEARCH_WALK in `order` that the other conditions (`walk`) let through, read
 * from that order's index (services_catalog_idx, _rating_idx or _price_idx; a common word fills
 * the page within a few dozen rows), and, only when those do not fill the page, the matches past
 * the SEARCH_WALK-th service in that order from the GIN index services_search_idx (a word that
 * rare has few matches). A plain `search @@ q` leaves the choice to the planner, which prices a
 * word missing from its statistics, and every word of a generic plan, at 0.5 % of the rows: an
 * ordered walk then looks cheaper than the GIN index, and for a word absent from the data it
 * reads the whole catalog (100,000 rows) to find nothing.
 * The walk checks the provider of a matching row only, as a subplan rather than a join, so that
 * no plan can trade its order for a hash join over all SEARCH_WALK rows. The later matches are
 * planned for full retrieval (inside array()), where only the GIN index is cheap; the one-time
 * filter on the count of earlier ones skips them when the page is full. The outer query then
 * reads the page's few ids in the page's order.
 */
function boundedSearch(walk: SQL[], q: string | Placeholder, rows: number, order: Order): SQL {
  const where = sql.join(
    walk.map((condition) => sql`(${condition})`),
    sql` and `,
  );
  const take = (count: number) => sql.raw(String(Math.trunc(count)));
  return sql`${services.id} = any(array(
    with earlier as (
      select walked.id from (
        select ${services.id} as id, ${services.providerId} as provider_id,
               ${services.search} as search, ${order.key} as sort_key
          from ${services} where ${where}
         order by ${sql.join(order.by, sql`, `)} limit ${take(SEARCH_WALK)}
      ) walked
      where walked.search @@ plainto_tsquery('simple', ${q})
        and (select ${users.isActive} from ${users} where ${users.id} = walked.provider_id)
      order by ${sql.raw(order.walkedBy)} limit ${take(rows)}
    )
    select id from earlier
    union all
    select ${services.id} from ${services} inner join ${users} on ${activeProvider}
     where ${where} and ${matches(q)}
       and (${order.cut}) ${sql.raw(order.past)}
           (select ${order.cut} from ${services} where ${where}
             order by ${sql.join(order.by, sql`, `)} offset ${take(SEARCH_WALK - 1)} limit 1)
       and (select count(*) from earlier) < ${take(rows)}
  ))`;
}

type Value = number | string | Placeholder | undefined;

interface Order {
  /** The sort key a cursor carries (null in newest order: the id is the key). */
  key: SQL<number | null>;
  /** The ORDER BY an index of services hands out as it is. */
  by: SQL[];
  /** The same order over a subquery's `sort_key` and `id` columns. */
  walkedBy: string;
  /** The keyset condition after the previous page's last row. */
  after: (key: Value, id: Value) => SQL;
  /** The columns that place a row in the order, and the comparison for "later in the order". */
  cut: SQL;
  past: '<' | '>';
}

/**
 * Each order: the key a cursor carries, the ORDER BY an index of services hands out as it is
 * (services_catalog_idx, services_catalog_rating_idx, services_catalog_price_idx) and the keyset
 * condition after the previous page's last row, a row comparison the index reads as a range.
 */
const byRating: Order = {
  key: sql<number>`${services.ratingBayes}`,
  by: [sql`${services.ratingBayes} desc nulls last`, newestFirst],
  walkedBy: 'sort_key desc nulls last, id desc nulls last',
  after: (key, id) =>
    sql`(${services.ratingBayes}, ${services.id}) < (${key}::float8, ${id}::uuid)`,
  cut: sql`${services.ratingBayes}, ${services.id}`,
  past: '<',
};
const ORDERS: Record<CatalogSort, Order> = {
  newest: {
    key: sql<null>`null`,
    by: [newestFirst],
    walkedBy: 'id desc nulls last',
    after: (_key, id) => sql`${services.id} < ${id}`,
    cut: sql`${services.id}`,
    past: '<',
  },
  rating: byRating,
  relevance: byRating,
  price: {
    key: priceKey,
    by: [sql`${priceKey} asc`, sql`${services.id} asc`],
    walkedBy: 'sort_key asc, id asc',
    after: (key, id) => sql`(${priceKey}, ${services.id}) > (${key}::int, ${id}::uuid)`,
    cut: sql`${priceKey}, ${services.id}`,
    past: '>',
  },
};

type Prepared = ReturnType<ReturnType<typeof catalogQuery>['prepare']>;
const FILTERS = ['category', 'postalCode', 'q', 'minRating', 'after', 'afterKey'] as const;

/**
 * Runs the catalog as named prepared statements (src/lib/prepared.ts), one per combination of
 * filters present and bucket of page size: planning was most of a catalog request's database
 * time. The LIMIT is a literal of the statement, so a connection holds at most 16 × 4
 * statements. With `q` every plan, generic or custom, reads a bounded number of rows for any
 * word (boundedSearch).
 */
export class CatalogReader {
  readonly #db: Db;
  readonly #statements = new PreparedStatements<Prepared>('catalog');

  constructor(db: Db) {
    this.#db = db;
  }

  /** Active services of active providers: a disabled provider's services leave at once. */
  list(filter: CatalogFilter) {
    const rows = rowBucket(filter.limit);
    const present = FILTERS.filter((name) => filter[name] !== undefined && filter[name] !== '');
    const sort = filter.sort ?? 'newest';
    const shape = `${present.join('_') || 'all'}_${rows}${sort === 'newest' ? '' : `_${sort}`}`;
    const prepared = this.#statements.get(shape, (name) => {
      const parameters: Parameters = { limit: rows, sort };
      for (const filterName of present) {
        Object.assign(parameters, { [filterName]: placeholder(filterName) });
      }
      return catalogQuery(this.#db, parameters).prepare(name);
    });
    const { sort: _sort, ...values } = filter;
    return prepared.execute(values);
  }
}
