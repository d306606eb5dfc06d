import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../../kernel/guards.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import {
  HideInput,
  MyReviewsQuery,
  ProviderProfile,
  ProviderReviewsQuery,
  ReplyInput,
  Review,
  ReviewInput,
} from './schemas.js';
import type { ReviewsService } from './service.js';

const BLIND =
  'A review is blind: only its author sees it until the other party has reviewed too, or 14 days after confirmation (then it is published by a timer).';

/** Reviews of confirmed bookings, replies, moderation, and the public provider profile. */
const reviewsRoutes: FastifyPluginAsyncTypebox<{ reviews: ReviewsService }> = async (
  app,
  { reviews },
) => {
  app.post(
    '/bookings/:id/review',
    {
      onRequest: app.requirePermission('reviews:write'),
      config: { idempotent: true },
      schema: {
        tags: ['reviews'],
        summary: 'Review a confirmed booking',
        description: `Each party (the homeowner and the provider) reviews the other once, within 14 days of confirmation: 409 \`invalid_state\` before the booking is confirmed, \`review_exists\` for a second review, \`review_window_closed\` after 14 days. ${BLIND} Anyone but the two parties gets 404.`,
        operationId: 'reviewBooking',
        params: IdParams,
        body: ReviewInput,
        response: { 201: Review, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const review = await reviews.submit(callerOf(request), request.params.id, request.body);
      return reply.code(201).send(review);
    },
  );

  app.get(
    '/providers/:id/reviews',
    {
      onRequest: app.requirePermission('catalog:read'),
      schema: {
        tags: ['reviews'],
        summary: 'List a provider’s reviews',
        description:
          'The published, visible reviews homeowners wrote about the provider, newest first, in keyset pages. 404 for an id that is not an active provider.',
        operationId: 'listProviderReviews',
        params: IdParams,
        querystring: ProviderReviewsQuery,
        response: { 200: Page(Review), ...errors(404) },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await reviews.providerReviews(request.params.id, {
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  const mine = [
    ['homeowner', '/homeowners/reviews', 'listMyHomeownerReviews'],
    ['provider', '/service-providers/reviews', 'listMyProviderReviews'],
  ] as const;
  for (const [side, url, operationId] of mine) {
    app.get(
      url,
      {
        onRequest: app.requirePermission('reviews:read'),
        schema: {
          tags: ['reviews'],
          summary: `List my reviews as the ${side}`,
          description: `\`about=me\` (the default): the published, visible reviews about the caller as the ${side}; \`about=by-me\`: the reviews the caller wrote as the ${side}, blind (\`pending\`) and hidden ones included. Newest first, in keyset pages.`,
          operationId,
          querystring: MyReviewsQuery,
          response: { 200: Page(Review), ...errors() },
        },
      },
      async (request) => {
        const { about = 'me', limit = 20, cursor } = request.query;
        const rows = await reviews.mine(callerOf(request), side, about as 'me' | 'by-me', {
          limit: limit + 1,
          after: decodeCursor(cursor),
        });
        return toPage(rows, limit);
      },
    );
  }

  app.post(
    '/reviews/:id/reply',
    {
      onRequest: app.requirePermission('reviews:write'),
      config: { idempotent: true },
      schema: {
        tags: ['reviews'],
        summary: 'Reply to a review about me',
        description:
          'The reviewed provider’s one public reply to a published, visible review a homeowner wrote about them: 409 `reply_exists` for a second one, `invalid_state` while the review is blind or hidden. Anyone else gets 404.',
        operationId: 'replyToReview',
        params: IdParams,
        body: ReplyInput,
        response: { 200: Review, ...errors(404, 409) },
      },
    },
    async (request) => reviews.reply(callerOf(request), request.params.id, request.body.text),
  );

  app.post(
    '/admin/reviews/:id/hide',
    {
      onRequest: [app.requirePermission('reviews:manage'), app.requireStepUp],
      config: { idempotent: true },
      schema: {
        tags: ['admin'],
        summary: 'Hide a review',
        description:
          'Hides the review from every list with a reason (an audit event `review.hidden`); a published homeowner’s review leaves the provider’s aggregates in the same transaction. 409 `invalid_state` when it is hidden already. An admin write: an admin with two-factor sign-in needs a step-up within the last 10 minutes (403 step_up_required).',
        operationId: 'hideReview',
        params: IdParams,
        body: HideInput,
        response: { 200: Review, ...errors(404, 409) },
      },
    },
    async (request) =>
      reviews.hide(
        callerOf(request),
        request.params.id,
        request.body.reason,
        requestContext(request),
      ),
  );

  app.get(
    '/providers/:id',
    {
      onRequest: app.requirePermission('catalog:read'),
      schema: {
        tags: ['reviews'],
        summary: 'Get a provider’s profile',
        description:
          'A provider as every signed-in user sees them: name, active services, rating summary and the three latest published reviews. No contact details. 404 for an id that is not an active provider.',
        operationId: 'getProviderProfile',
        params: IdParams,
        response: { 200: ProviderProfile, ...errors(404) },
      },
    },
    async (request) => reviews.profile(request.params.id),
  );
};

export default reviewsRoutes;
