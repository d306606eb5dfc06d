import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../../kernel/guards.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import { Booking, BookingListQuery, CancelInput, DisputeInput, ResolveInput } from './schemas.js';
import type { MarketplaceService } from './service.js';
import { BOOKING_VERBS, type BookingVerb, TRANSITIONS } from './transitions.js';

const PARTIES_ONLY =
  'Only the two parties (and admins holding `bookings:manage`) see it: any other caller gets 404.';

const BODIES: Partial<Record<BookingVerb, typeof CancelInput | typeof DisputeInput>> = {
  cancel: CancelInput,
  dispute: DisputeInput,
};
const NOTES: Record<BookingVerb, string> = {
  start: 'The provider starts the work.',
  complete:
    'The provider finishes: the homeowner has 7 days to confirm or dispute, then the booking confirms itself.',
  confirm: 'The homeowner confirms the work is done.',
  cancel:
    'Either party cancels a scheduled booking with a reason; less than 24 hours before the proposed start it is flagged `lateCancellation`.',
  dispute: 'The homeowner disputes a completed booking, within 7 days of completion.',
};

/** Bookings: reads for both parties, the lifecycle transitions, the admins' dispute resolution. */
const bookingRoutes: FastifyPluginAsyncTypebox<{ marketplace: MarketplaceService }> = async (
  app,
  { marketplace },
) => {
  app.get(
    '/bookings/:id',
    {
      onRequest: app.requirePermission('bookings:read'),
      schema: {
        tags: ['marketplace'],
        summary: 'Get a booking',
        description: `The booking with the job’s address and both parties’ contact details. ${PARTIES_ONLY}`,
        operationId: 'getBooking',
        params: IdParams,
        response: { 200: Booking, ...errors(404) },
      },
    },
    async (request) => marketplace.getBooking(callerOf(request), request.params.id),
  );

  const lists = [
    ['homeowner', '/homeowners/bookings', 'listMyHomeownerBookings', 'bookings:read'],
    ['provider', '/service-providers/bookings', 'listMyProviderBookings', 'bookings:read'],
    ['admin', '/admin/bookings', 'listAllBookings', 'bookings:manage'],
  ] as const;
  for (const [side, url, operationId, permission] of lists) {
    app.get(
      url,
      {
        onRequest: app.requirePermission(permission),
        schema: {
          tags: [side === 'admin' ? 'admin' : 'marketplace'],
          summary: side === 'admin' ? 'List every booking' : `List my bookings as the ${side}`,
          description:
            side === 'admin'
              ? 'Every booking, including those whose parties’ accounts are gone, newest first, in keyset pages; `state` filters.'
              : `The bookings the caller is the ${side} of, newest first, in keyset pages; \`state\` filters.`,
          operationId,
          querystring: BookingListQuery,
          response: { 200: Page(Booking), ...errors() },
        },
      },
      async (request) => {
        const { limit = 20, cursor, state } = request.query;
        const rows = await marketplace.listBookings(callerOf(request), side, {
          limit: limit + 1,
          after: decodeCursor(cursor),
          state,
        });
        return toPage(rows, limit);
      },
    );
  }

  for (const verb of BOOKING_VERBS) {
    const transition = TRANSITIONS[`booking.${verb}`];
    const body = BODIES[verb];
    app.post<{ Params: { id: string }; Body: { reason?: string } }>(
      `/bookings/:id/${verb}`,
      {
        onRequest: app.requirePermission('bookings:write'),
        config: { idempotent: true },
        schema: {
          tags: ['marketplace'],
          summary: `${verb[0]?.toUpperCase()}${verb.slice(1)} a booking`,
          description: `Transition \`${transition.name}\`: ${transition.from.join(', ')} → ${transition.to}, by the ${transition.actors.join(' or ')}. ${NOTES[verb]} The other party is mailed. 409 \`invalid_state\` from any other state; 403 for the party who may not. ${PARTIES_ONLY}`,
          operationId: `${verb}Booking`,
          params: IdParams,
          ...(body && { body }),
          response: { 200: Booking, ...errors(403, 404, 409) },
        },
      },
      async (request) =>
        marketplace.moveBooking(
          callerOf(request),
          request.params.id,
          verb,
          request.body ?? {},
          requestContext(request),
        ),
    );
  }

  app.post(
    '/admin/bookings/:id/resolve',
    {
      onRequest: [app.requirePermission('bookings:manage'), app.requireStepUp],
      config: { idempotent: true },
      schema: {
        tags: ['admin'],
        summary: 'Resolve a disputed booking',
        description:
          'Transition `booking.resolve`: disputed → resolved, with the resolution both parties are mailed. 409 `invalid_state` for a booking that is not disputed. An admin write: an admin with two-factor sign-in needs a step-up within the last 10 minutes (403 step_up_required).',
        operationId: 'resolveBookingDispute',
        params: IdParams,
        body: ResolveInput,
        response: { 200: Booking, ...errors(404, 409) },
      },
    },
    async (request) =>
      marketplace.resolveDispute(
        callerOf(request),
        request.params.id,
        request.body.resolution,
        requestContext(request),
      ),
  );
};

export default bookingRoutes;
