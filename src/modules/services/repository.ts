import { and, eq, getTableColumns, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { services } from '../../db/schema.js';

/** The public `Service`: every column but the full-text document. */
const { search: _search, ...serviceColumns } = getTableColumns(services);

export { serviceColumns };
export type ServiceRow = Omit<typeof services.$inferSelect, 'search'>;

/** What a provider writes; id, provider and timestamps are the server's. */
export type ServiceValues = Omit<
  typeof services.$inferInsert,
  'id' | 'providerId' | 'search' | 'createdAt' | 'updatedAt'
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

/**
 * What the other modules tie to a service (the marketplace's live quotes): `withdrawn` runs in
 * the transaction that deactivates or deletes it. The composition root wires it.
 */
export type OnServiceWithdrawn = (tx: Db, serviceId: string) => Promise<void>;

export async function replaceService(
  db: Db,
  providerId: string,
  id: string,
  values: ServiceValues,
  onWithdrawn?: OnServiceWithdrawn,
): Promise<ServiceRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(services)
      .set(values)
      .where(owned(providerId, id))
      .returning(serviceColumns);
    if (row && !row.isActive) await onWithdrawn?.(tx, row.id);
    return row;
  });
}

/**
 * Reads the service, lets `change` derive (and check) the update from it, and writes it, with the
 * row locked in between: a concurrent change cannot slip in and break what `change` checked.
 */
export async function changeService(
  db: Db,
  providerId: string,
  id: string,
  change: (current: ServiceRow) => Partial<ServiceValues>,
  onWithdrawn?: OnServiceWithdrawn,
): Promise<ServiceRow | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select(serviceColumns)
      .from(services)
      .where(owned(providerId, id))
      .for('update');
    if (!current) return undefined;
    const [row] = await tx
      .update(services)
      .set(change(current))
      .where(owned(providerId, id))
      .returning(serviceColumns);
    if (row && !row.isActive) await onWithdrawn?.(tx, row.id);
    return row;
  });
}

export async function deleteService(
  db: Db,
  providerId: string,
  id: string,
  onWithdrawn?: OnServiceWithdrawn,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select({ id: services.id })
      .from(services)
      .where(owned(providerId, id))
      .for('update');
    if (!current) return false;
    // Before the delete: the foreign keys then forget which quotes named the service.
    await onWithdrawn?.(tx, id);
    const rows = await tx
      .delete(services)
      .where(owned(providerId, id))
      .returning({ id: services.id });
    return rows.length > 0;
  });
}
