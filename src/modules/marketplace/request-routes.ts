import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../../kernel/guards.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import { normalisePostalCode } from '../services/input.js';
import {
  Booking,
  FeedQuery,
  JobRequest,
  JobRequestInput,
  JobRequestPatch,
  OpenJobRequest,
  Quote,
  QuoteInput,
  QuoteParams,
  RequestCancelInput,
  RequestListQuery,
} from './schemas.js';
import type { MarketplaceService } from './service.js';

const OWNER_ONLY = 'Only the homeowner who opened it sees it: any other caller gets 404.';
const SERVABLE_ONLY =
  'Only a provider with an active service in its category and postal code (and, for a direct request, the one it names) sees it: any other caller gets 404.';

/** Job requests and quotes: the homeowner's side (/homeowners/requests) and the provider's. */
const requestRoutes: FastifyPluginAsyncTypebox<{ marketplace: MarketplaceService }> = async (
  app,
  { marketplace },
) => {
  app.get(
    '/homeowners/requests',
    {
      onRequest: app.requirePermission('requests:read'),
      schema: {
        tags: ['marketplace'],
        summary: 'List my job requests',
        description: 'The caller’s job requests in every state, newest first, in keyset pages.',
        operationId: 'listMyJobRequests',
        querystring: RequestListQuery,
        response: { 200: Page(JobRequest), ...errors() },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await marketplace.listRequests(callerOf(request), {
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/homeowners/requests',
    {
      onRequest: app.requirePermission('requests:write'),
      config: { idempotent: true },
      schema: {
        tags: ['marketplace'],
        summary: 'Open a job request',
        description:
          'Opens a request for work on one of the caller’s properties (another owner’s property is 404). With `serviceId` it is a direct request to that service’s provider; without, every provider with an active service in the category and the property’s postal code sees it in their feed. It expires after 14 days without an accepted quote.',
        operationId: 'openJobRequest',
        body: JobRequestInput,
        response: { 201: JobRequest, ...errors(404) },
      },
    },
    async (request, reply) => {
      const row = await marketplace.openRequest(
        callerOf(request),
        request.body,
        requestContext(request),
      );
      return reply.code(201).header('location', `/homeowners/requests/${row.id}`).send(row);
    },
  );

  app.get(
    '/homeowners/requests/:id',
    {
      onRequest: app.requirePermission('requests:read'),
      schema: {
        tags: ['marketplace'],
        summary: 'Get one of my job requests',
        description: OWNER_ONLY,
        operationId: 'getMyJobRequest',
        params: IdParams,
        response: { 200: JobRequest, ...errors(404) },
      },
    },
    async (request) => marketplace.getRequest(callerOf(request), request.params.id),
  );

  app.patch(
    '/homeowners/requests/:id',
    {
      onRequest: app.requirePermission('requests:write'),
      schema: {
        tags: ['marketplace'],
        summary: 'Change one of my job requests',
        description: `Changes the fields sent, while the request is open and has no quote: 409 \`invalid_state\` once a quote exists, 409 \`request_closed\` once it is not open. ${OWNER_ONLY}`,
        operationId: 'updateMyJobRequest',
        params: IdParams,
        body: JobRequestPatch,
        response: { 200: JobRequest, ...errors(404, 409) },
      },
    },
    async (request) =>
      marketplace.updateRequest(callerOf(request), request.params.id, request.body),
  );

  app.post(
    '/homeowners/requests/:id/cancel',
    {
      onRequest: app.requirePermission('requests:write'),
      config: { idempotent: true },
      schema: {
        tags: ['marketplace'],
        summary: 'Cancel one of my job requests',
        description: `Transition \`request.cancel\`: an open request becomes cancelled and its live quotes are declined (each provider is mailed). 409 \`invalid_state\` when it is not open. ${OWNER_ONLY}`,
        operationId: 'cancelMyJobRequest',
        params: IdParams,
        body: RequestCancelInput,
        response: { 200: JobRequest, ...errors(404, 409) },
      },
    },
    async (request) =>
      marketplace.cancelRequest(
        callerOf(request),
        request.params.id,
        request.body.reason,
        requestContext(request),
      ),
  );

  app.get(
    '/homeowners/requests/:id/quotes',
    {
      onRequest: app.requirePermission('requests:read'),
      schema: {
        tags: ['marketplace'],
        summary: 'List the quotes on my job request',
        description: `Every quote but the revisions a provider replaced, newest first, with the provider’s name and catalog service. ${OWNER_ONLY}`,
        operationId: 'listJobRequestQuotes',
        params: IdParams,
        querystring: RequestListQuery,
        response: { 200: Page(Quote), ...errors(404) },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await marketplace.listQuotes(callerOf(request), request.params.id, {
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/homeowners/requests/:id/quotes/:quoteId/accept',
    {
      onRequest: app.requirePermission('requests:write'),
      config: { idempotent: true },
      schema: {
        tags: ['marketplace'],
        summary: 'Accept a quote',
        description: `Transition \`quote.accept\`, in one transaction: the quote is accepted, the request booked, every other live quote declined and the booking created (the provider is mailed). Of concurrent accepts on one request exactly one wins; the others get 409 \`request_closed\`. 409 \`quote_expired\` past the quote’s validUntil, \`invalid_state\` for a quote that is not live. ${OWNER_ONLY}`,
        operationId: 'acceptQuote',
        params: QuoteParams,
        response: { 201: Booking, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const booking = await marketplace.accept(
        callerOf(request),
        request.params.id,
        request.params.quoteId,
        requestContext(request),
      );
      return reply.code(201).header('location', `/bookings/${booking.id}`).send(booking);
    },
  );

  app.get(
    '/service-providers/requests',
    {
      onRequest: app.requirePermission('feed:read'),
      schema: {
        tags: ['marketplace'],
        summary: 'The feed of job requests I can serve',
        description:
          'Open requests in the category and postal code of one of the caller’s active services (direct requests only when addressed to the caller), that the caller has no live quote on, newest first, in keyset pages. Before a booking a provider sees the postal code and the city, never the street address or the homeowner.',
        operationId: 'listProviderFeed',
        querystring: FeedQuery,
        response: { 200: Page(OpenJobRequest), ...errors() },
      },
    },
    async (request) => {
      const { limit = 20, cursor, category, postalCode } = request.query;
      const rows = await marketplace.feed(callerOf(request), {
        limit: limit + 1,
        after: decodeCursor(cursor),
        category,
        postalCode: postalCode === undefined ? undefined : normalisePostalCode(postalCode),
      });
      return toPage(rows, limit);
    },
  );

  app.get(
    '/service-providers/requests/:id',
    {
      onRequest: app.requirePermission('feed:read'),
      schema: {
        tags: ['marketplace'],
        summary: 'Get an open job request I can serve',
        description: SERVABLE_ONLY,
        operationId: 'getOpenJobRequest',
        params: IdParams,
        response: { 200: OpenJobRequest, ...errors(404) },
      },
    },
    async (request) => marketplace.getOpenRequest(callerOf(request), request.params.id),
  );

  app.post(
    '/service-providers/requests/:id/quotes',
    {
      onRequest: app.requirePermission('quotes:write'),
      config: { idempotent: true },
      schema: {
        tags: ['marketplace'],
        summary: 'Quote on a job request',
        description: `Transition \`quote.submit\` (the homeowner is mailed); a provider has one live quote per request, so a second one replaces the first (\`quote.replace\`). It expires at \`validUntil\`. 409 \`request_closed\` when the request is no longer open. ${SERVABLE_ONLY}`,
        operationId: 'submitQuote',
        params: IdParams,
        body: QuoteInput,
        response: { 201: Quote, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const quote = await marketplace.submitQuote(
        callerOf(request),
        request.params.id,
        request.body,
        requestContext(request),
      );
      return reply
        .code(201)
        .header('location', `/homeowners/requests/${quote.requestId}/quotes`)
        .send(quote);
    },
  );

  app.post(
    '/service-providers/quotes/:id/withdraw',
    {
      onRequest: app.requirePermission('quotes:write'),
      config: { idempotent: true },
      schema: {
        tags: ['marketplace'],
        summary: 'Withdraw my quote',
        description:
          'Transition `quote.withdraw` (the homeowner is mailed). 409 `invalid_state` for a quote that is not live. Only the provider who made it: any other caller gets 404.',
        operationId: 'withdrawQuote',
        params: IdParams,
        response: { 200: Quote, ...errors(404, 409) },
      },
    },
    async (request) =>
      marketplace.withdrawQuote(callerOf(request), request.params.id, requestContext(request)),
  );
};

export default requestRoutes;
