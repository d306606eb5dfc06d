import { type Static, Type } from 'typebox';
import { PRICING_MODELS, REVIEW_AUTHOR_ROLES, SERVICE_CATEGORIES } from '../../db/schema.js';
import { PageQueryFields, Timestamp, Uuid } from '../../lib/schemas.js';
import { Nullable, Paragraph } from '../../lib/text.js';

/** The most a review's text, a reply and a hiding reason may hold. */
export const REVIEW_TEXT_MAX = 2000;

export const ReviewInput = Type.Object(
  {
    rating: Type.Integer({ minimum: 1, maximum: 5, description: 'Stars, 1 to 5' }),
    text: Paragraph(
      REVIEW_TEXT_MAX,
      'How it went; line breaks allowed, no other control characters',
    ),
  },
  {
    additionalProperties: false,
    title: 'ReviewInput',
    description: 'A party’s review of a confirmed booking: once, within 14 days of confirmation',
  },
);
export type ReviewInput = Static<typeof ReviewInput>;

export const ReplyInput = Type.Object(
  { text: Paragraph(REVIEW_TEXT_MAX, 'The provider’s public answer') },
  {
    additionalProperties: false,
    title: 'ReplyInput',
    description: 'The reviewed provider’s one public reply to a published review',
  },
);
export type ReplyInput = Static<typeof ReplyInput>;

export const HideInput = Type.Object(
  { reason: Paragraph(REVIEW_TEXT_MAX, 'Why it is hidden: kept in the audit trail') },
  { additionalProperties: false, title: 'HideReviewInput' },
);

const Person = Type.Object(
  {
    id: Nullable(Uuid),
    displayName: Type.String({
      description: 'First name and initial; "former user" once the account is deleted (id null)',
    }),
  },
  { title: 'ReviewPerson', description: 'Who wrote or is reviewed, as others see them' },
);

export const REVIEW_STATES = ['pending', 'published', 'hidden'] as const;

export const Review = Type.Object(
  {
    id: Uuid,
    bookingId: Uuid,
    authorRole: Type.Enum(REVIEW_AUTHOR_ROLES, {
      description: 'homeowner: a review of the provider; provider: a review of the homeowner',
    }),
    author: Person,
    subject: Person,
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    text: Type.String(),
    state: Type.Enum(REVIEW_STATES, {
      description:
        'pending: blind, seen only by its author until both parties reviewed or the 14 days end; published; hidden by an admin',
    }),
    publishedAt: Nullable(Timestamp),
    reply: Nullable(
      Type.Object(
        { text: Type.String(), createdAt: Timestamp },
        { title: 'ReviewReply', description: 'The reviewed provider’s public answer' },
      ),
    ),
    hiddenReason: Nullable(
      Type.String({ description: 'Shown only to the author and in the admin’s answer' }),
    ),
    createdAt: Timestamp,
  },
  { title: 'Review', description: 'One party’s rating and words about the other, for one booking' },
);
export type ReviewView = Static<typeof Review>;

export const RatingSummary = Type.Object(
  {
    count: Type.Integer({ minimum: 0, description: 'Published, visible reviews by homeowners' }),
    average: Nullable(
      Type.Number({ description: 'Their mean rating, to two decimals; null without reviews' }),
    ),
  },
  { title: 'RatingSummary', description: 'A provider’s rating, kept as reviews are published' },
);

export const ProviderProfile = Type.Object(
  {
    id: Uuid,
    displayName: Type.String(),
    rating: RatingSummary,
    services: Type.Array(
      Type.Object(
        {
          id: Uuid,
          title: Type.String(),
          category: Type.Enum(SERVICE_CATEGORIES),
          pricingModel: Type.Enum(PRICING_MODELS),
          priceCents: Nullable(Type.Integer()),
          currency: Type.String(),
        },
        { title: 'ProfileService', description: 'An active service of the provider' },
      ),
      { description: 'The provider’s active services, newest first (at most 100)' },
    ),
    latestReviews: Type.Array(Review, {
      description: 'The three latest published, visible reviews homeowners wrote',
    }),
  },
  { title: 'ProviderProfile', description: 'A provider as every signed-in user sees them' },
);

export const MyReviewsQuery = Type.Object(
  {
    about: Type.Optional(
      Type.Enum(['me', 'by-me'], {
        default: 'me',
        description:
          'me: the published reviews about the caller (the default); by-me: the reviews the caller wrote, pending ones included',
      }),
    ),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);
export const ProviderReviewsQuery = Type.Object(PageQueryFields, { additionalProperties: false });
