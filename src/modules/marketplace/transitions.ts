import {
  BOOKING_STATES,
  type BookingState,
  type Party,
  QUOTE_STATES,
  type QuoteState,
  REQUEST_STATES,
  type RequestState,
} from '../../db/schema.js';

/*
 * The marketplace's transaction process, declared once. Every change of a request's, a quote's
 * or a booking's state is one of these transitions, and MarketplaceService executes them only
 * through this table: the actor is checked against `actors`, the state change is a
 * compare-and-set on `from` in SQL, and the `effects` run in the same transaction. The state
 * diagram in docs/marketplace.md and the exhaustive state × transition × actor test are both
 * generated from it.
 */

export type Entity = 'request' | 'quote' | 'booking';
export interface States {
  request: RequestState;
  quote: QuoteState;
  booking: BookingState;
}
export const STATES: { [E in Entity]: readonly States[E][] } = {
  request: REQUEST_STATES,
  quote: QUOTE_STATES,
  booking: BOOKING_STATES,
};

/** Days a request stays open without an accepted quote. */
export const REQUEST_TTL_DAYS = 14;
/** Days after completion during which the homeowner may dispute; then the booking auto-confirms. */
export const DISPUTE_WINDOW_DAYS = 7;
/** A cancellation less than this many hours before the proposed start is flagged late. */
export const LATE_CANCELLATION_HOURS = 24;

export type TimerName = 'request.expire' | 'quote.expire' | 'booking.autoconfirm';

/**
 * What a transition does besides moving the state, in this order, inside its transaction:
 * - `audit`: an audit event named after the transition (every transition has it);
 * - `mail`: a notification to each party `notify` names (NotificationsService.notify), and a mail
 *   through the outbox to those whose notification settings want its kind;
 * - `schedule:<timer>`: the timed transition that may follow;
 * - `decline-live-quotes`: every live quote on the request is declined (`quote.decline`);
 * - `decline-other-quotes`: every other live quote on the request is declined;
 * - `book-request`: the request moves to booked (`request.book`);
 * - `create-booking`: the booking is created (`booking.create`);
 * - `stamp-completion`: the booking records when it was completed;
 * - `flag-late-cancellation`: the cancellation is flagged late before the proposed start.
 */
export type Effect =
  | 'audit'
  | 'mail'
  | `schedule:${TimerName}`
  | 'decline-live-quotes'
  | 'decline-other-quotes'
  | 'book-request'
  | 'create-booking'
  | 'stamp-completion'
  | 'flag-late-cancellation';

/** Who gets the notification (and mail): `other` is the party that did not act (both parties after `system`/`admin`). */
export type Notify = 'homeowner' | 'provider' | 'other' | 'none';

export interface Transition<E extends Entity = Entity> {
  name: string;
  entity: E;
  actors: readonly Party[];
  /** Empty for a creation: the row starts in `to`. */
  from: readonly States[E][];
  to: States[E];
  /** For a timed transition: when it fires. */
  timer?: string;
  notify: Notify;
  effects: readonly Effect[];
}

const define = <E extends Entity>(transition: Transition<E>) => transition;

export const TRANSITIONS = {
  // Requests
  'request.open': define({
    name: 'request.open',
    entity: 'request',
    actors: ['homeowner'],
    from: [],
    to: 'open',
    notify: 'none',
    effects: ['audit', 'schedule:request.expire'],
  }),
  'request.cancel': define({
    name: 'request.cancel',
    entity: 'request',
    actors: ['homeowner', 'system'],
    from: ['open'],
    to: 'cancelled',
    notify: 'none',
    effects: ['audit', 'decline-live-quotes'],
  }),
  'request.expire': define({
    name: 'request.expire',
    entity: 'request',
    actors: ['system'],
    from: ['open'],
    to: 'expired',
    timer: `${REQUEST_TTL_DAYS} days after it was opened`,
    notify: 'homeowner',
    effects: ['audit', 'mail', 'decline-live-quotes'],
  }),
  'request.book': define({
    name: 'request.book',
    entity: 'request',
    actors: ['homeowner'],
    from: ['open'],
    to: 'booked',
    notify: 'none',
    effects: ['audit'],
  }),
  // Quotes
  'quote.submit': define({
    name: 'quote.submit',
    entity: 'quote',
    actors: ['provider'],
    from: [],
    to: 'live',
    notify: 'homeowner',
    effects: ['audit', 'mail', 'schedule:quote.expire'],
  }),
  'quote.replace': define({
    name: 'quote.replace',
    entity: 'quote',
    actors: ['provider'],
    from: ['live'],
    to: 'replaced',
    notify: 'none',
    effects: ['audit'],
  }),
  'quote.withdraw': define({
    name: 'quote.withdraw',
    entity: 'quote',
    actors: ['provider', 'system'],
    from: ['live'],
    to: 'withdrawn',
    notify: 'homeowner',
    effects: ['audit', 'mail'],
  }),
  'quote.accept': define({
    name: 'quote.accept',
    entity: 'quote',
    actors: ['homeowner'],
    from: ['live'],
    to: 'accepted',
    notify: 'none',
    effects: ['audit', 'book-request', 'decline-other-quotes', 'create-booking'],
  }),
  'quote.decline': define({
    name: 'quote.decline',
    entity: 'quote',
    actors: ['system'],
    from: ['live'],
    to: 'declined',
    notify: 'provider',
    effects: ['audit', 'mail'],
  }),
  'quote.expire': define({
    name: 'quote.expire',
    entity: 'quote',
    actors: ['system'],
    from: ['live'],
    to: 'expired',
    timer: 'at its validUntil',
    notify: 'provider',
    effects: ['audit', 'mail'],
  }),
  // Bookings
  'booking.create': define({
    name: 'booking.create',
    entity: 'booking',
    actors: ['homeowner'],
    from: [],
    to: 'scheduled',
    notify: 'provider',
    effects: ['audit', 'mail'],
  }),
  'booking.start': define({
    name: 'booking.start',
    entity: 'booking',
    actors: ['provider'],
    from: ['scheduled'],
    to: 'in_progress',
    notify: 'homeowner',
    effects: ['audit', 'mail'],
  }),
  'booking.complete': define({
    name: 'booking.complete',
    entity: 'booking',
    actors: ['provider'],
    from: ['in_progress'],
    to: 'completed',
    notify: 'homeowner',
    effects: ['audit', 'stamp-completion', 'mail', 'schedule:booking.autoconfirm'],
  }),
  'booking.confirm': define({
    name: 'booking.confirm',
    entity: 'booking',
    actors: ['homeowner'],
    from: ['completed'],
    to: 'confirmed',
    notify: 'provider',
    effects: ['audit', 'mail'],
  }),
  'booking.autoconfirm': define({
    name: 'booking.autoconfirm',
    entity: 'booking',
    actors: ['system'],
    from: ['completed'],
    to: 'confirmed',
    timer: `${DISPUTE_WINDOW_DAYS} days after completion, when the dispute window closes`,
    notify: 'other',
    effects: ['audit', 'mail'],
  }),
  'booking.cancel': define({
    name: 'booking.cancel',
    entity: 'booking',
    actors: ['homeowner', 'provider'],
    from: ['scheduled'],
    to: 'cancelled',
    notify: 'other',
    effects: ['audit', 'flag-late-cancellation', 'mail'],
  }),
  'booking.dispute': define({
    name: 'booking.dispute',
    entity: 'booking',
    actors: ['homeowner'],
    from: ['completed'],
    to: 'disputed',
    notify: 'provider',
    effects: ['audit', 'mail'],
  }),
  'booking.resolve': define({
    name: 'booking.resolve',
    entity: 'booking',
    actors: ['admin'],
    from: ['disputed'],
    to: 'resolved',
    notify: 'other',
    effects: ['audit', 'mail'],
  }),
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;
export const transitionsOf = (entity: Entity): Transition[] =>
  Object.values(TRANSITIONS).filter((transition) => transition.entity === entity);

/** The booking transitions a party fires with `POST /bookings/{id}/{verb}`. */
export const BOOKING_VERBS = ['start', 'complete', 'confirm', 'cancel', 'dispute'] as const;
export type BookingVerb = (typeof BOOKING_VERBS)[number];

export function may(transition: Transition, actor: Party): boolean {
  return transition.actors.includes(actor);
}

export function allows(transition: Transition, state: string): boolean {
  return (transition.from as readonly string[]).includes(state);
}

/** The mermaid state diagrams of docs/marketplace.md, one per entity, generated from the table. */
export function stateDiagram(entity: Entity): string {
  const lines = ['stateDiagram-v2'];
  for (const transition of transitionsOf(entity)) {
    const label = `${transition.name.split('.')[1]} (${transition.actors.join(', ')}${transition.timer ? `, ${transition.timer}` : ''})`;
    const sources = transition.from.length === 0 ? ['[*]'] : transition.from;
    for (const from of sources) lines.push(`    ${from} --> ${transition.to}: ${label}`);
  }
  return lines.join('\n');
}

/** The "States" section of docs/marketplace.md, as test/marketplace/diagram.test.ts expects it. */
export function stateDiagramsMarkdown(): string {
  return (['request', 'quote', 'booking'] as const)
    .map(
      (entity) =>
        `### ${entity[0]?.toUpperCase()}${entity.slice(1)}\n\n\`\`\`mermaid\n${stateDiagram(entity)}\n\`\`\``,
    )
    .join('\n\n');
}
