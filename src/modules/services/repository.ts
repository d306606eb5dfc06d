import { and, eq, getTableColumns, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { services } from '../../db/schema.js';

/** The public `Service`: every column but the full-text document. */
const { search: _search, ...serviceColumns } = getTableColumns(services);

export { serviceColumns };
export type ServiceRow = Omit<typeof services.$inferSelect, 'search'>;

/** What a provider writes; id, provider and timestamps are the server's. */
export type ServiceValues = Omit<
  typeof services.$inferInsert,
  'id' | 'providerId' | 'search' | 'createdAt' | 'updatedAt' | 'version'
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

export async function insertService(
  db: Db,
  providerId: string,
  values: ServiceValues,
): Promise<ServiceRow> {
  const [row] = await db
    .insert(services)
    .values({ ...values, providerId })
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
