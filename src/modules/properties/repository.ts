import { and, eq, getTableColumns, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { properties } from '../../db/schema.js';

/** Every column is part of the public `Property`. */
const propertyColumns = getTableColumns(properties);
export type PropertyRow = typeof properties.$inferSelect;

/** What a homeowner writes; id, owner and timestamps are the server's. */
export type PropertyValues = Omit<
  typeof properties.$inferInsert,
  'id' | 'ownerId' | 'createdAt' | 'updatedAt' | 'version'
>;

/** `nulls last` matches properties_owner_idx (owner_id, id desc nulls last), so the index serves the order. */
const newestFirst = sql`${properties.id} desc nulls last`;

/** Ownership is part of every query: another owner's id matches no row. */
const owned = (ownerId: string, id: string) =>
  and(eq(properties.ownerId, ownerId), eq(properties.id, id));

/**
 * The row, at one of the `expected` versions when given (If-Match): the compare-and-set of a
 * conditional write. Never called with an empty list (the service answers 412 without writing).
 */
const ownedAt = (ownerId: string, id: string, expected?: readonly number[]) =>
  expected === undefined
    ? owned(ownerId, id)
    : and(owned(ownerId, id), inArray(properties.version, [...expected]));

export interface PropertyPageFilter {
  limit: number;
  /** Id of the last property of the previous page. */
  after?: string;
}

export async function listProperties(
  db: Db,
  ownerId: string,
  filter: PropertyPageFilter,
): Promise<PropertyRow[]> {
  const conditions: SQL[] = [eq(properties.ownerId, ownerId)];
  if (filter.after) conditions.push(lt(properties.id, filter.after));
  return db
    .select(propertyColumns)
    .from(properties)
    .where(and(...conditions))
    .orderBy(newestFirst)
    .limit(filter.limit);
}

export async function findProperty(
  db: Db,
  ownerId: string,
  id: string,
): Promise<PropertyRow | undefined> {
  const [row] = await db.select(propertyColumns).from(properties).where(owned(ownerId, id));
  return row;
}

export async function insertProperty(
  db: Db,
  ownerId: string,
  values: PropertyValues,
): Promise<PropertyRow> {
  const [row] = await db
    .insert(properties)
    .values({ ...values, ownerId })
    .returning(propertyColumns);
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function updateProperty(
  db: Db,
  ownerId: string,
  id: string,
  changes: Partial<PropertyValues>,
  expected?: readonly number[],
): Promise<PropertyRow | undefined> {
  // The version goes up by one in this statement (schema.ts, $onUpdate).
  const [row] = await db
    .update(properties)
    .set(changes)
    .where(ownedAt(ownerId, id, expected))
    .returning(propertyColumns);
  return row;
}

export async function deleteProperty(
  db: Db,
  ownerId: string,
  id: string,
  expected?: readonly number[],
): Promise<boolean> {
  const rows = await db
    .delete(properties)
    .where(ownedAt(ownerId, id, expected))
    .returning({ id: properties.id });
  return rows.length > 0;
}
