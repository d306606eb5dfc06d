import { and, eq, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import {
  bookings,
  providerRatings,
  type ReviewAuthorRole,
  reviews,
  services,
  userGrants,
  users,
} from '../../db/schema.js';

export type ReviewRow = typeof reviews.$inferSelect;

/** The booking a review is about, locked: the two parties' reviews of it run one after the other. */
export async function lockBooking(tx: Db, id: string) {
  const [row] = await tx
    .select({
      id: bookings.id,
      state: bookings.state,
      homeownerId: bookings.homeownerId,
      providerId: bookings.providerId,
      confirmedAt: bookings.confirmedAt,
      updatedAt: bookings.updatedAt,
    })
    .from(bookings)
    .where(eq(bookings.id, id))
    .for('update');
  return row;
}

export async function reviewsOfBooking(db: Db, bookingId: string): Promise<ReviewRow[]> {
  return db.select().from(reviews).where(eq(reviews.bookingId, bookingId));
}

export async function insertReview(
  tx: Db,
  values: Omit<typeof reviews.$inferInsert, 'id'>,
): Promise<ReviewRow> {
  const [row] = await tx.insert(reviews).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** Publishes a booking's blind reviews; only the rows this call published come back. */
export async function publishPending(tx: Db, bookingId: string, now: Date): Promise<ReviewRow[]> {
  return tx
    .update(reviews)
    .set({ publishedAt: now })
    .where(and(eq(reviews.bookingId, bookingId), isNull(reviews.publishedAt)))
    .returning();
}

export async function findReview(db: Db, id: string): Promise<ReviewRow | undefined> {
  const [row] = await db.select().from(reviews).where(eq(reviews.id, id));
  return row;
}

/** The one reply: only while there is none, on a published, visible review about `providerId`. */
export async function setReply(
  tx: Db,
  id: string,
  providerId: string,
  text: string,
  now: Date,
): Promise<ReviewRow | undefined> {
  const [row] = await tx
    .update(reviews)
    .set({ reply: text, repliedAt: now })
    .where(
      and(
        eq(reviews.id, id),
        eq(reviews.subjectId, providerId),
        eq(reviews.authorRole, 'homeowner'),
        isNull(reviews.reply),
        isNotNull(reviews.publishedAt),
        isNull(reviews.hiddenAt),
      ),
    )
    .returning();
  return row;
}

/** Hides a review once; undefined when it was hidden already. */
export async function hideReview(
  tx: Db,
  id: string,
  reason: string,
  now: Date,
): Promise<ReviewRow | undefined> {
  const [row] = await tx
    .update(reviews)
    .set({ hiddenAt: now, hiddenReason: reason })
    .where(and(eq(reviews.id, id), isNull(reviews.hiddenAt)))
    .returning();
  return row;
}

export interface RatingPrior {
  priorMean: number;
  priorWeight: number;
}

export interface RatingSummaryRow {
  count: number;
  average: number | null;
  bayesian: number;
}

/**
 * Adds (or with negative values removes) reviews to a provider's aggregates in one atomic
 * upsert: concurrent publications each add their own. Returns the new aggregates.
 */
export async function addToRating(
  tx: Db,
  providerId: string,
  delta: { count: number; sum: number },
  prior: RatingPrior,
): Promise<RatingSummaryRow> {
  const m = sql`${prior.priorMean}::float8`;
  const c = sql`${prior.priorWeight}::float8`;
  const count = sql`(${providerRatings.count} + ${delta.count}::int)`;
  const sum = sql`(${providerRatings.sum} + ${delta.sum}::int)`;
  const set = sql`
      count = ${count},
      sum = ${sum},
      average = case when ${count} > 0 then ${sum}::float8 / ${count} end,
      bayesian = case when ${c} + ${count} > 0 then (${c} * ${m} + ${sum}) / (${c} + ${count}) else ${m} end,
      updated_at = now()`;
  // A removal always finds the row its publication made; an addition may be the first. (CHECK
  // constraints apply to an upsert's proposed row, so a negative one cannot go through INSERT.)
  const result = (await tx.execute(
    delta.count < 0
      ? sql`update ${providerRatings} set ${set}
             where ${providerRatings.providerId} = ${providerId}
         returning count, average, bayesian`
      : sql`insert into ${providerRatings} (provider_id, count, sum, average, bayesian)
            values (${providerId}, ${delta.count}::int, ${delta.sum}::int,
                    ${delta.sum}::float8 / ${delta.count}::int,
                    (${c} * ${m} + ${delta.sum}::int) / (${c} + ${delta.count}::int))
            on conflict (provider_id) do update set ${set}
            returning count, average, bayesian`,
  )) as unknown as { rows: RatingSummaryRow[] };
  const row = result.rows[0];
  if (!row) throw new Error('upsert returned no row');
  return { count: Number(row.count), average: row.average, bayesian: Number(row.bayesian) };
}

export async function findRating(db: Db, providerId: string) {
  const [row] = await db
    .select({ count: providerRatings.count, average: providerRatings.average })
    .from(providerRatings)
    .where(eq(providerRatings.providerId, providerId));
  return row ?? { count: 0, average: null };
}

/** An active account that holds the service provider role. */
export async function findProvider(db: Db, id: string) {
  const [row] = await db
    .select({ id: users.id, fullName: users.fullName })
    .from(users)
    .innerJoin(userGrants, eq(userGrants.userId, users.id))
    .where(
      and(
        eq(users.id, id),
        sql`${users.isActive}`,
        sql`'service_provider' = any(${userGrants.roles})`,
      ),
    );
  return row;
}

export const PROFILE_SERVICES_MAX = 100;

export async function activeServicesOf(db: Db, providerId: string) {
  return db
    .select({
      id: services.id,
      title: services.title,
      category: services.category,
      pricingModel: services.pricingModel,
      priceCents: services.priceCents,
      currency: services.currency,
    })
    .from(services)
    .where(and(eq(services.providerId, providerId), sql`${services.isActive}`))
    .orderBy(sql`${services.id} desc nulls last`)
    .limit(PROFILE_SERVICES_MAX);
}

const author = alias(users, 'author');
const subject = alias(users, 'subject');
const reviewColumns = {
  review: reviews,
  authorName: author.fullName,
  subjectName: subject.fullName,
};
export type ReviewWithNames = {
  review: ReviewRow;
  authorName: string | null;
  subjectName: string | null;
};

export interface ReviewPageFilter {
  limit: number;
  /** Id of the last review of the previous page. */
  after?: string;
}

function withNames(db: Db, conditions: SQL[], limit: number) {
  return (
    db
      .select(reviewColumns)
      .from(reviews)
      .leftJoin(author, eq(author.id, reviews.authorId))
      .leftJoin(subject, eq(subject.id, reviews.subjectId))
      .where(and(...conditions))
      // `nulls last` as the indexes have it (id desc nulls last), so they hand out the order.
      .orderBy(sql`${reviews.id} desc nulls last`)
      .limit(limit)
  );
}

/**
 * The published, visible reviews about `subjectId` written by the other side (`authorRole`),
 * newest first: one range of reviews_subject_public_idx. Built, not run, for the EXPLAIN test.
 */
export function reviewsAboutQuery(
  db: Db,
  subjectId: string,
  authorRole: ReviewAuthorRole,
  page: ReviewPageFilter,
) {
  const conditions = [
    eq(reviews.subjectId, subjectId),
    eq(reviews.authorRole, authorRole),
    isNotNull(reviews.publishedAt),
    isNull(reviews.hiddenAt),
  ];
  if (page.after) conditions.push(lt(reviews.id, page.after));
  return withNames(db, conditions, page.limit);
}

/** The reviews `authorId` wrote in one role, pending and hidden ones too: reviews_author_idx. */
export function reviewsByQuery(
  db: Db,
  authorId: string,
  authorRole: ReviewAuthorRole,
  page: ReviewPageFilter,
) {
  const conditions = [eq(reviews.authorId, authorId), eq(reviews.authorRole, authorRole)];
  if (page.after) conditions.push(lt(reviews.id, page.after));
  return withNames(db, conditions, page.limit);
}

export async function findReviewWithNames(db: Db, id: string) {
  const [row] = await withNames(db, [eq(reviews.id, id)], 1);
  return row;
}
