import { and, eq, getTableColumns, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { providerRatings, services } from '../../db/schema.js';

/** The public `Service`: every column but the full-text document and the provider's rating. */
const {
  search: _search,
  ratingBayes: _bayes,
  ratingCount: _count,
  ratingAverage: _average,
  ...serviceColumns
} = getTableColumns(services);

export { serviceColumns };
export type ServiceRow = Omit<
  typeof services.$inferSelect,
  'search' | 'ratingBayes' | 'ratingCount' | 'ratingAverage'
>;

/** What a provider writes; id, provider and timestamps are the server's. */
export type ServiceValues = Omit<
  typeof services.$inferInsert,
  | 'id'
  | 'providerId'
  | 'search'
  | 'createdAt'
  | 'updatedAt'
  | 'version'
  | 'ratingBayes'
  | 'ratingCount'
  | 'ratingAverage'
>;

/** `nulls last` matches the indexes' (id desc nulls last), so they serve the order. */
export const newestFirst = sql`${services.id} desc nulls last`;

/** Ownership is part of every query: another provider's id matches no row. */
const owned = (providerId: string, id: string) =>
  and(eq(services.providerId, providerId), eq(services.id, id));

export interface ServicePageFilter {
  limit: number;
  /** Id of the last service of the previous page. */
  after?: string;
}

export async function listServices(
  db: Db,
  providerId: string,
  filter: ServicePageFilter,
): Promise<ServiceRow[]> {
  const conditions: SQL[] = [eq(services.providerId, providerId)];
  if (filter.after) conditions.push(lt(services.id, filter.after));
  return db
    .select(serviceColumns)
    .from(services)
    .where(and(...conditions))
    .orderBy(newestFirst)
    .limit(filter.limit);
}

export async function findService(
  db: Db,
  providerId: string,
  id: string,
): Promise<ServiceRow | undefined> {
  const [row] = await db.select(serviceColumns).from(services).where(owned(providerId, id));
  return row;
}

/**
 * A new service starts with its provider's rating (reviews module, provider_ratings), or the
 * prior mean while the provider has none.
 */
export async function insertService(
  db: Db,
  providerId: string,
  values: ServiceValues,
  priorMean: number,
): Promise<ServiceRow> {
  const rating = (column: 'bayesian' | 'count' | 'average') =>
    sql`(select ${sql.identifier(column)} from ${providerRatings} where ${providerRatings.providerId} = ${providerId})`;
  const [row] = await db
    .insert(services)
    .values({
      ...values,
      providerId,
      ratingBayes: sql`coalesce(${rating('bayesian')}, ${priorMean}::float8)`,
      ratingCount: sql`coalesce(${rating('count')}, 0)`,
      ratingAverage: rating('average'),
    })
    .returning(serviceColumns);
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** The service with its row locked until the transaction ends: for a change that depends on it. */
export async function findServiceForUpdate(
  tx: Db,
  providerId: string,
  id: string,
): Promise<ServiceRow | undefined> {
  const [row] = await tx
    .select(serviceColumns)
    .from(services)
    .where(owned(providerId, id))
    .for('update');
  return row;
}

export async function updateService(
  db: Db,
  providerId: string,
  id: string,
  changes: Partial<ServiceValues>,
  /** If-Match: the compare-and-set on the version; never an empty list. */
  expected?: readonly number[],
): Promise<ServiceRow | undefined> {
  const where =
    expected === undefined
      ? owned(providerId, id)
      : and(owned(providerId, id), inArray(services.version, [...expected]));
  // The version goes up by one in this statement (schema.ts, $onUpdate).
  const [row] = await db.update(services).set(changes).where(where).returning(serviceColumns);
  return row;
}

export async function deleteService(db: Db, providerId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(services)
    .where(owned(providerId, id))
    .returning({ id: services.id });
  return rows.length > 0;
}

/**
 * The provider's rating copied onto each of their services (the catalog sorts and filters by
 * it), in the transaction that changed it. Raw SQL: a rating is not an edit of the service, so
 * updated_at stays.
 */
export async function setProviderRating(
  tx: Db,
  providerId: string,
  rating: { count: number; average: number | null; bayesian: number },
): Promise<void> {
  await tx.execute(sql`
    update ${services}
       set rating_bayes = ${rating.bayesian}::float8,
           rating_count = ${rating.count}::int,
           rating_average = ${rating.average}::float8
     where ${services.providerId} = ${providerId}`);
}
