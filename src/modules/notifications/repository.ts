import { and, eq, gt, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { notificationSettings, notifications } from '../../db/schema.js';
import type { NotificationKind } from './kinds.js';

/** The public columns: the owner is the caller, so user_id stays in. */
const columns = {
  id: notifications.id,
  kind: sql<NotificationKind>`${notifications.kind}`.as('kind'),
  title: notifications.title,
  body: notifications.body,
  link: notifications.link,
  readAt: notifications.readAt,
  createdAt: notifications.createdAt,
};

export interface NotificationRow {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  link: string | null;
  readAt: Date | null;
  createdAt: Date;
}

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  link?: string | null;
  createdAt: Date;
}

export async function insertNotification(
  db: Db,
  values: NewNotification,
): Promise<NotificationRow> {
  const [row] = await db
    .insert(notifications)
    .values({ ...values, link: values.link ?? null })
    .returning(columns);
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** `nulls last` matches both indexes' (user_id, id desc nulls last), so either serves the order. */
const newestFirst = sql`${notifications.id} desc nulls last`;

export interface NotificationPageFilter {
  limit: number;
  after?: string;
  unread?: boolean;
}

/** The list's query, unexecuted: the route awaits it, the EXPLAIN test plans it. */
export function notificationsQuery(db: Db, userId: string, filter: NotificationPageFilter) {
  const conditions: SQL[] = [eq(notifications.userId, userId)];
  if (filter.unread) conditions.push(isNull(notifications.readAt));
  if (filter.after) conditions.push(lt(notifications.id, filter.after));
  return db
    .select(columns)
    .from(notifications)
    .where(and(...conditions))
    .orderBy(newestFirst)
    .limit(filter.limit);
}

export async function listNotifications(
  db: Db,
  userId: string,
  filter: NotificationPageFilter,
): Promise<NotificationRow[]> {
  return notificationsQuery(db, userId, filter);
}

/** The stream's replay, unexecuted: what was written after `afterId`, oldest first. */
export function replayQuery(db: Db, userId: string, afterId: string, limit: number) {
  return (
    db
      .select(columns)
      .from(notifications)
      .where(and(eq(notifications.userId, userId), gt(notifications.id, afterId)))
      // `nulls first`: the exact reverse of the index's `desc nulls last`, read backwards.
      .orderBy(sql`${notifications.id} asc nulls first`)
      .limit(limit)
  );
}

export async function notificationsAfter(
  db: Db,
  userId: string,
  afterId: string,
  limit: number,
): Promise<NotificationRow[]> {
  return replayQuery(db, userId, afterId, limit);
}

/** Marks unread ones read; ids of other users match nothing. */
export async function markRead(
  db: Db,
  userId: string,
  ids: string[] | 'all',
  now: Date,
): Promise<number> {
  const conditions: SQL[] = [eq(notifications.userId, userId), isNull(notifications.readAt)];
  if (ids !== 'all') conditions.push(inArray(notifications.id, ids));
  const rows = await db
    .update(notifications)
    .set({ readAt: now })
    .where(and(...conditions))
    .returning({ id: notifications.id });
  return rows.length;
}

export async function findMailSettings(
  db: Db,
  userId: string,
): Promise<Record<string, boolean> | undefined> {
  const [row] = await db
    .select({ mail: notificationSettings.mail })
    .from(notificationSettings)
    .where(eq(notificationSettings.userId, userId));
  return row?.mail;
}

export async function saveMailSettings(
  db: Db,
  userId: string,
  mail: Record<string, boolean>,
  now: Date,
): Promise<void> {
  await db
    .insert(notificationSettings)
    .values({ userId, mail, updatedAt: now })
    .onConflictDoUpdate({ target: notificationSettings.userId, set: { mail, updatedAt: now } });
}
