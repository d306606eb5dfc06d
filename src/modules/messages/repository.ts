import { aliasedTable, and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import {
  bookings,
  jobRequests,
  messages,
  messageThreads,
  threadMembers,
  users,
} from '../../db/schema.js';

/** What a deleted account shows as, wherever it took part. */
export const FORMER_USER = 'former user';

const homeowners = aliasedTable(users, 'thread_homeowner');
const providers = aliasedTable(users, 'thread_provider');
const senders = aliasedTable(users, 'message_sender');

export interface ThreadKeys {
  requestId: string;
  homeownerId: string;
  providerId: string;
  now: Date;
}

/**
 * Opens the thread of a request and a provider, with a member row for each party, unless it
 * exists: idempotent, in the caller's transaction.
 */
export async function openThread(tx: Db, keys: ThreadKeys): Promise<string | undefined> {
  const [created] = await tx
    .insert(messageThreads)
    .values({
      requestId: keys.requestId,
      homeownerId: keys.homeownerId,
      providerId: keys.providerId,
      lastActivityAt: keys.now,
      createdAt: keys.now,
    })
    .onConflictDoNothing({ target: [messageThreads.requestId, messageThreads.providerId] })
    .returning({ id: messageThreads.id });
  if (!created) return undefined;
  await tx.insert(threadMembers).values([
    {
      threadId: created.id,
      userId: keys.homeownerId,
      role: 'homeowner',
      lastActivityAt: keys.now,
    },
    { threadId: created.id, userId: keys.providerId, role: 'provider', lastActivityAt: keys.now },
  ]);
  return created.id;
}

/** The columns of a thread as its parties see it: no address, no email, no phone. */
const threadColumns = {
  id: messageThreads.id,
  requestId: messageThreads.requestId,
  requestTitle: sql<string>`coalesce(${jobRequests.title}, '')`.as('request_title'),
  homeownerId: messageThreads.homeownerId,
  homeownerName: sql<string>`coalesce(${homeowners.fullName}, ${FORMER_USER})`.as('homeowner_name'),
  providerId: messageThreads.providerId,
  providerName: sql<string>`coalesce(${providers.fullName}, ${FORMER_USER})`.as('provider_name'),
  bookingId: bookings.id,
  bookingState: bookings.state,
  createdAt: messageThreads.createdAt,
};

export interface ThreadRow {
  id: string;
  requestId: string;
  requestTitle: string;
  homeownerId: string | null;
  homeownerName: string;
  providerId: string | null;
  providerName: string;
  bookingId: string | null;
  bookingState: string | null;
  createdAt: Date;
}

export interface MemberThreadRow extends ThreadRow {
  role: 'homeowner' | 'provider';
  lastActivityAt: Date;
  unreadCount: number;
}

export interface ThreadPageFilter {
  limit: number;
  after?: { lastActivityAt: Date; id: string } | undefined;
  /** Only this thread (the view answered after posting or reading). */
  only?: string;
}

/**
 * The caller's threads, most recent activity first: the page is one range of
 * thread_members_list_idx under its Limit (a subquery), then a primary-key lookup per row for the
 * thread, its request, its parties and its booking; only the page's rows are sorted after the
 * joins. Built, not run, for the EXPLAIN test.
 */
export function memberThreadsQuery(db: Db, userId: string, filter: ThreadPageFilter) {
  const after = filter.after;
  const page = db
    .select({
      threadId: threadMembers.threadId,
      role: threadMembers.role,
      lastActivityAt: threadMembers.lastActivityAt,
      unreadCount: threadMembers.unreadCount,
    })
    .from(threadMembers)
    .where(
      and(
        eq(threadMembers.userId, userId),
        filter.only ? eq(threadMembers.threadId, filter.only) : undefined,
        after
          ? sql`(${threadMembers.lastActivityAt}, ${threadMembers.threadId}) < (${after.lastActivityAt.toISOString()}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    // `nulls last`: the index's own order (a bare `desc` means nulls first, and a sort).
    .orderBy(
      sql`${threadMembers.lastActivityAt} desc nulls last`,
      sql`${threadMembers.threadId} desc nulls last`,
    )
    .limit(filter.limit)
    .as('page');
  return db
    .select({
      ...threadColumns,
      role: page.role,
      lastActivityAt: page.lastActivityAt,
      unreadCount: page.unreadCount,
    })
    .from(page)
    .innerJoin(messageThreads, eq(messageThreads.id, page.threadId))
    .leftJoin(jobRequests, eq(jobRequests.id, messageThreads.requestId))
    .leftJoin(homeowners, eq(homeowners.id, messageThreads.homeownerId))
    .leftJoin(providers, eq(providers.id, messageThreads.providerId))
    .leftJoin(
      bookings,
      and(
        eq(bookings.requestId, messageThreads.requestId),
        eq(bookings.providerId, messageThreads.providerId),
      ),
    )
    .orderBy(desc(page.lastActivityAt), desc(page.threadId));
}

export async function listMemberThreads(
  db: Db,
  userId: string,
  filter: ThreadPageFilter,
): Promise<MemberThreadRow[]> {
  return (await memberThreadsQuery(db, userId, filter)) as MemberThreadRow[];
}

export interface ThreadAccess {
  id: string;
  requestId: string;
  requestTitle: string;
  homeownerId: string | null;
  providerId: string | null;
  /** The caller's side, or null for an admin reading a disputed booking's thread. */
  role: 'homeowner' | 'provider' | null;
  disputed: boolean;
}

/** The thread and the caller's place in it; `forUpdate` locks the thread row (posting). */
export async function findThreadAccess(
  db: Db,
  threadId: string,
  userId: string,
  forUpdate = false,
): Promise<ThreadAccess | undefined> {
  const query = db
    .select({
      id: messageThreads.id,
      requestId: messageThreads.requestId,
      requestTitle: sql<string>`coalesce(${jobRequests.title}, '')`,
      homeownerId: messageThreads.homeownerId,
      providerId: messageThreads.providerId,
      role: threadMembers.role,
      disputed: sql<boolean>`exists (select 1 from ${bookings} where ${bookings.requestId} = ${messageThreads.requestId} and ${bookings.providerId} = ${messageThreads.providerId} and ${bookings.state} = 'disputed')`,
    })
    .from(messageThreads)
    .leftJoin(jobRequests, eq(jobRequests.id, messageThreads.requestId))
    .leftJoin(
      threadMembers,
      and(eq(threadMembers.threadId, messageThreads.id), eq(threadMembers.userId, userId)),
    )
    .where(eq(messageThreads.id, threadId));
  const [row] = await (forUpdate ? query.for('update', { of: messageThreads }) : query);
  if (!row) return undefined;
  return { ...row, role: row.role ?? null, disputed: Boolean(row.disputed) };
}

const messageColumns = {
  id: messages.id,
  threadId: messages.threadId,
  senderId: messages.senderId,
  senderName: sql<string>`coalesce(${senders.fullName}, ${FORMER_USER})`.as('sender_name'),
  body: messages.body,
  createdAt: messages.createdAt,
};

export interface MessageRow {
  id: string;
  threadId: string;
  senderId: string | null;
  senderName: string;
  body: string;
  createdAt: Date;
}

export interface MessagePageFilter {
  limit: number;
  after?: string | undefined;
}

/** A thread's messages newest first: one range of messages_thread_idx. Built for EXPLAIN too. */
export function threadMessagesQuery(db: Db, threadId: string, filter: MessagePageFilter) {
  return db
    .select(messageColumns)
    .from(messages)
    .leftJoin(senders, eq(senders.id, messages.senderId))
    .where(
      and(
        eq(messages.threadId, threadId),
        filter.after ? lt(messages.id, filter.after) : undefined,
      ),
    )
    .orderBy(sql`${messages.id} desc nulls last`)
    .limit(filter.limit);
}

export async function listThreadMessages(
  db: Db,
  threadId: string,
  filter: MessagePageFilter,
): Promise<MessageRow[]> {
  return threadMessagesQuery(db, threadId, filter);
}

export async function insertMessage(
  tx: Db,
  values: { threadId: string; senderId: string; body: string; createdAt: Date },
): Promise<{ id: string }> {
  const [row] = await tx.insert(messages).values(values).returning({ id: messages.id });
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function findMessage(
  db: Db,
  threadId: string,
  id: string,
): Promise<MessageRow | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .leftJoin(senders, eq(senders.id, messages.senderId))
    .where(and(eq(messages.threadId, threadId), eq(messages.id, id)));
  return row;
}

/**
 * A message was posted: the thread and both members move to the top of their lists; the sender
 * has read up to it, the other member has one more unread.
 */
export async function recordActivity(
  tx: Db,
  threadId: string,
  senderId: string,
  messageId: string,
  now: Date,
): Promise<void> {
  await tx
    .update(messageThreads)
    .set({ lastActivityAt: now })
    .where(eq(messageThreads.id, threadId));
  await tx
    .update(threadMembers)
    .set({
      lastActivityAt: now,
      unreadCount: sql`case when ${threadMembers.userId} = ${senderId} then 0 else ${threadMembers.unreadCount} + 1 end`,
      lastReadId: sql`case when ${threadMembers.userId} = ${senderId} then ${messageId}::uuid else ${threadMembers.lastReadId} end`,
    })
    .where(eq(threadMembers.threadId, threadId));
}

/**
 * Marks the member's messages read up to `messageId` (never backwards) and recounts the other
 * party's messages after the marker: one range of messages_thread_idx.
 */
export async function markThreadRead(
  db: Db,
  threadId: string,
  userId: string,
  messageId: string,
): Promise<{ lastReadId: string | null; unreadCount: number } | undefined> {
  const marker = sql`greatest(coalesce(${threadMembers.lastReadId}, ${messageId}::uuid), ${messageId}::uuid)`;
  const [row] = await db
    .update(threadMembers)
    .set({
      lastReadId: marker,
      unreadCount: sql`(select count(*)::int from ${messages} where ${messages.threadId} = ${threadId} and ${messages.id} > ${marker} and ${messages.senderId} is distinct from ${userId})`,
    })
    .where(and(eq(threadMembers.threadId, threadId), eq(threadMembers.userId, userId)))
    .returning({ lastReadId: threadMembers.lastReadId, unreadCount: threadMembers.unreadCount });
  return row;
}

/** The caller's member view of one thread (after posting or reading). */
export async function findMemberThread(
  db: Db,
  threadId: string,
  userId: string,
): Promise<MemberThreadRow | undefined> {
  const [row] = await listMemberThreads(db, userId, { limit: 1, only: threadId });
  return row;
}

/** The display name of a user, or "former user". */
export async function nameOf(db: Db, userId: string | null): Promise<string> {
  if (!userId) return FORMER_USER;
  const [row] = await db
    .select({ fullName: users.fullName })
    .from(users)
    .where(eq(users.id, userId));
  return row?.fullName ?? FORMER_USER;
}
