import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { ReviewAuthorRole } from '../../db/schema.js';
import { recordAudit } from '../../kernel/audit.js';
import type { Caller } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import {
  invalidState,
  notFound,
  PG_UNIQUE_VIOLATION,
  pgErrorCode,
  replyExists,
  reviewExists,
  reviewWindowClosed,
} from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { Jobs } from '../../plugins/jobs.js';
import type { NotificationsService } from '../notifications/service.js';
import { setProviderRating } from '../services/repository.js';
import {
  activeServicesOf,
  addToRating,
  findProvider,
  findRating,
  findReview,
  findReviewWithNames,
  hideReview,
  insertReview,
  lockBooking,
  publishPending,
  type RatingPrior,
  type ReviewPageFilter,
  type ReviewRow,
  type ReviewWithNames,
  reviewsAboutQuery,
  reviewsByQuery,
  reviewsOfBooking,
  setReply,
} from './repository.js';
import type { ReviewInput, ReviewView } from './schemas.js';

/** Days after confirmation during which each party may review; then the blind reviews publish. */
export const REVIEW_WINDOW_DAYS = 14;
export const PUBLISH_JOB = 'reviews.publish';
const DAY_MS = 86_400_000;
export const FORMER_USER = 'former user';

export interface ReviewsDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  jobs: Pick<Jobs, 'schedule' | 'wake'>;
  notifications: Pick<NotificationsService, 'notify'>;
  prior: RatingPrior;
}

/** "Jane Doe" → "Jane D."; a deleted account is "former user". */
export function displayName(fullName: string | null): string {
  if (fullName === null) return FORMER_USER;
  const words = fullName.trim().split(/\s+/);
  const first = words[0] ?? '';
  const last = words.length > 1 ? words.at(-1) : undefined;
  return last ? `${first} ${[...last][0]}.` : first;
}

const roundedAverage = (average: number | null) =>
  average === null ? null : Math.round(average * 100) / 100;

export function ratingSummary(rating: { count: number; average: number | null }) {
  return { count: rating.count, average: roundedAverage(rating.average) };
}

/**
 * Reviews and ratings: each party of a confirmed booking reviews the other once, within 14 days
 * of confirmation. A review is blind (seen only by its author) until the other party has
 * reviewed too, or the 14 days end (the `reviews.publish` timer); publishing a homeowner's
 * review adds it to the provider's aggregates in the same transaction, hiding it takes it out.
 */
export class ReviewsService {
  constructor(private readonly deps: ReviewsDeps) {}

  private get db() {
    return this.deps.db;
  }

  async submit(caller: Caller, bookingId: string, input: ReviewInput): Promise<ReviewView> {
    const now = this.deps.clock.now();
    let id: string;
    try {
      id = await this.db.transaction(async (tx) => {
        // The lock makes the two parties' reviews of one booking run one after the other, so
        // the second always sees the first and publishes both.
        const booking = await lockBooking(tx, bookingId);
        const role: ReviewAuthorRole | undefined =
          booking?.homeownerId === caller.id
            ? 'homeowner'
            : booking?.providerId === caller.id
              ? 'provider'
              : undefined;
        if (!booking || !role) throw notFound('No such booking.');
        if (booking.state !== 'confirmed') {
          throw invalidState(
            `The booking is ${booking.state}: only a confirmed booking is reviewed.`,
          );
        }
        const existing = await reviewsOfBooking(tx, bookingId);
        if (existing.some((review) => review.authorRole === role)) throw reviewExists();
        const deadline = this.deadline(booking.confirmedAt ?? booking.updatedAt);
        if (now >= deadline) {
          throw reviewWindowClosed(
            `Reviews close ${REVIEW_WINDOW_DAYS} days after the booking was confirmed.`,
          );
        }
        const row = await insertReview(tx, {
          bookingId,
          authorRole: role,
          authorId: caller.id,
          subjectId: role === 'homeowner' ? booking.providerId : booking.homeownerId,
          rating: input.rating,
          text: input.text.trim(),
          createdAt: now,
        });
        if (existing.length > 0) {
          await this.publish(tx, bookingId, now);
        } else {
          await this.deps.jobs.schedule(
            tx,
            PUBLISH_JOB,
            { bookingId },
            { runAt: deadline, key: bookingId },
          );
        }
        return row.id;
      });
    } catch (error) {
      if (pgErrorCode(error) === PG_UNIQUE_VIOLATION) throw reviewExists();
      throw error;
    }
    this.deps.jobs.wake();
    return this.view(id, caller);
  }

  /** The timer: the blind reviews of a booking whose window ended. Idempotent. */
  async publishDue(bookingId: string, now: Date): Promise<number> {
    const published = await this.db.transaction((tx) => this.publish(tx, bookingId, now));
    this.deps.jobs.wake();
    return published;
  }

  async reply(caller: Caller, id: string, text: string): Promise<ReviewView> {
    const now = this.deps.clock.now();
    const review = await findReview(this.db, id);
    if (!review || review.subjectId !== caller.id || review.authorRole !== 'homeowner') {
      throw notFound('No such review.');
    }
    if (review.reply !== null) throw replyExists();
    if (review.publishedAt === null || review.hiddenAt !== null) {
      throw invalidState('Only a published, visible review can be replied to.');
    }
    const row = await this.db.transaction((tx) => setReply(tx, id, caller.id, text.trim(), now));
    if (!row) throw replyExists();
    return this.view(id, caller);
  }

  async hide(
    caller: Caller,
    id: string,
    reason: string,
    context: RequestContext,
  ): Promise<ReviewView> {
    const now = this.deps.clock.now();
    const review = await findReview(this.db, id);
    if (!review) throw notFound('No such review.');
    await this.db.transaction(async (tx) => {
      const row = await hideReview(tx, id, reason.trim(), now);
      if (!row) throw invalidState('The review is hidden already.');
      if (row.publishedAt !== null) await this.count(tx, row, -1);
      await recordAudit(tx, this.deps.logger, context, {
        type: 'review.hidden',
        actorId: caller.id,
        subjectId: id,
        data: { reason: reason.trim(), bookingId: row.bookingId, wasPublished: !!row.publishedAt },
      });
    });
    return this.view(id, caller, true);
  }

  // Reads

  async providerReviews(providerId: string, page: ReviewPageFilter) {
    if (!(await findProvider(this.db, providerId))) throw notFound('No such provider.');
    const rows = await reviewsAboutQuery(this.db, providerId, 'homeowner', page);
    return rows.map((row) => toView(row, false));
  }

  /** `side`: the role the caller reads as. About me: published only; by me: all of mine. */
  async mine(
    caller: Caller,
    side: ReviewAuthorRole,
    about: 'me' | 'by-me',
    page: ReviewPageFilter,
  ) {
    if (about === 'by-me') {
      const rows = await reviewsByQuery(this.db, caller.id, side, page);
      return rows.map((row) => toView(row, true));
    }
    const other: ReviewAuthorRole = side === 'homeowner' ? 'provider' : 'homeowner';
    const rows = await reviewsAboutQuery(this.db, caller.id, other, page);
    return rows.map((row) => toView(row, false));
  }

  async profile(providerId: string) {
    const provider = await findProvider(this.db, providerId);
    if (!provider) throw notFound('No such provider.');
    const [rating, services, latest] = await Promise.all([
      findRating(this.db, providerId),
      activeServicesOf(this.db, providerId),
      reviewsAboutQuery(this.db, providerId, 'homeowner', { limit: 3 }),
    ]);
    return {
      id: provider.id,
      displayName: provider.fullName,
      rating: ratingSummary(rating),
      services,
      latestReviews: latest.map((row) => toView(row, false)),
    };
  }

  // Publication and aggregates

  private deadline(confirmedAt: Date): Date {
    return new Date(confirmedAt.getTime() + REVIEW_WINDOW_DAYS * DAY_MS);
  }

  /** Publishes what is blind of a booking, counts it, tells each subject; in `tx`. */
  private async publish(tx: Db, bookingId: string, now: Date): Promise<number> {
    const published = await publishPending(tx, bookingId, now);
    for (const row of published) {
      if (row.hiddenAt !== null) continue; // hidden while blind: never counted, nobody told
      await this.count(tx, row, 1);
      if (row.subjectId) {
        await this.deps.notifications.notify(tx, {
          userId: row.subjectId,
          kind: 'review.received',
          title: `New ${row.rating}-star review`,
          body: `A review of your booking was published: ${row.rating} of 5.`,
          link:
            row.authorRole === 'homeowner'
              ? '/service-providers/reviews?about=me'
              : '/homeowners/reviews?about=me',
        });
      }
    }
    return published.length;
  }

  /** Only homeowners' reviews of a provider who still exists count in provider aggregates. */
  private async count(tx: Db, row: ReviewRow, sign: 1 | -1): Promise<void> {
    if (row.authorRole !== 'homeowner' || !row.subjectId) return;
    const rating = await addToRating(
      tx,
      row.subjectId,
      { count: sign, sum: sign * row.rating },
      this.deps.prior,
    );
    await setProviderRating(tx, row.subjectId, rating);
  }

  private async view(id: string, caller: Caller, admin = false): Promise<ReviewView> {
    const row = await findReviewWithNames(this.db, id);
    if (!row) throw notFound('No such review.');
    return toView(row, admin || row.review.authorId === caller.id);
  }
}

function toView(row: ReviewWithNames, showReason: boolean): ReviewView {
  const { review } = row;
  return {
    id: review.id,
    bookingId: review.bookingId,
    authorRole: review.authorRole,
    author: { id: review.authorId, displayName: displayName(row.authorName) },
    subject: { id: review.subjectId, displayName: displayName(row.subjectName) },
    rating: review.rating,
    text: review.text,
    state: review.hiddenAt ? 'hidden' : review.publishedAt ? 'published' : 'pending',
    publishedAt: review.publishedAt,
    reply:
      review.reply !== null && review.repliedAt !== null
        ? { text: review.reply, createdAt: review.repliedAt }
        : null,
    hiddenReason: showReason ? review.hiddenReason : null,
    createdAt: review.createdAt,
  } as unknown as ReviewView;
}
