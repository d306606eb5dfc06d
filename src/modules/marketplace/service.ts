import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Static } from 'typebox';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { bookings, type Party } from '../../db/schema.js';
import { recordAudit } from '../../kernel/audit.js';
import { contactOf } from '../../kernel/contacts.js';
import type { Caller } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import {
  badRequest,
  type FieldError,
  forbidden,
  invalidState,
  notFound,
  quoteExpired,
  requestClosed,
} from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { enqueueMail, type MailSealer } from '../../mail/outbox.js';
import { marketplaceMail, marketplaceSummary } from '../../mail/templates.js';
import type { Jobs } from '../../plugins/jobs.js';
import type { NotificationKind } from '../notifications/kinds.js';
import type { NotificationsService } from '../notifications/service.js';
import { findProperty } from '../properties/repository.js';
import { normalisePostalCode } from '../services/input.js';
import { MarketplaceLists } from './lists.js';
import {
  type BookingFilter,
  type BookingRow,
  canServe,
  casBooking,
  casQuote,
  casRequest,
  type FeedFilter,
  findBooking,
  findBookingView,
  findLiveQuote,
  findQuotableService,
  findQuote,
  findQuoteView,
  findRequest,
  findServableRequest,
  hasQuotes,
  insertBooking,
  insertQuote,
  insertRequest,
  liveQuoteIds,
  lockOwnRequest,
  openRequestIdsOf,
  type PageFilter,
  type QuoteRow,
  quotesByProvider,
  quotesForService,
  quotesOnRequest,
  type RequestRow,
  updateRequestFields,
} from './repository.js';
import type { Booking, JobRequestInput, JobRequestPatch, Quote, QuoteInput } from './schemas.js';
import {
  type BookingVerb,
  DISPUTE_WINDOW_DAYS,
  LATE_CANCELLATION_HOURS,
  may,
  REQUEST_TTL_DAYS,
  type TimerName,
  TRANSITIONS,
  type Transition,
  type TransitionName,
} from './transitions.js';

const DAY_MS = 86_400_000;
/** How far ahead a request's window, a quote's validity and its proposed start may reach. */
const WINDOW_MAX_DAYS = 365;
const QUOTE_VALIDITY_MAX_DAYS = 90;

export interface MarketplaceDeps {
  db: Db;
  config: Config;
  clock: Clock;
  sealer: MailSealer;
  jobs: Pick<Jobs, 'schedule' | 'wake'>;
  logger: Logger;
  /** Each transition's recipients get a notification; the mail follows their settings. */
  notifications: Pick<NotificationsService, 'notify' | 'shouldMail'>;
  /**
   * Opens the message thread of a request and a provider (idempotent), in the transaction of the
   * provider's first quote or of a direct request.
   */
  openThread(
    tx: Db,
    keys: { requestId: string; homeownerId: string; providerId: string; now: Date },
  ): Promise<unknown>;
}

/** The notification kind of a transition, for its recipients. */
function kindOf(transition: Transition): NotificationKind {
  if (transition.entity === 'request') return 'request.updated';
  if (transition.entity === 'booking') return 'booking.updated';
  return transition.name === 'quote.submit' ? 'quote.received' : 'quote.updated';
}

/** Who fires a transition, for the audit trail and the mails. */
interface Act {
  actor: Party;
  actorId: string | null;
  context: RequestContext | null;
  now: Date;
}

type Row = RequestRow | QuoteRow | BookingRow;

/** What the effects of one transition produced, for the flow that fired it. */
interface Outcome {
  bookingId?: string;
}

/**
 * Drizzle gives a left-joined object whose columns are all null as null, so the address, each
 * party, a quote's provider and service are whole or null; its types only know each column may be.
 */
type BookingView = Static<typeof Booking>;
type QuoteView = Static<typeof Quote>;
const asBookings = (rows: unknown[]) => rows as BookingView[];
const asQuotes = (rows: unknown[]) => rows as QuoteView[];

const fieldError = (path: string, message: string): FieldError => ({ path, message });
const invalid = (errors: FieldError[]) => badRequest('The request is not valid.', errors);
const today = (now: Date) => now.toISOString().slice(0, 10);
const addDays = (date: Date, days: number) => new Date(date.getTime() + days * DAY_MS);

/**
 * The marketplace: job requests, quotes and bookings. Every state change goes through `fire`,
 * which executes one transition of the table in transitions.ts: a compare-and-set on the state,
 * then the transition's effects (audit, mail, timers, the other transitions it implies) in the
 * same transaction.
 */
export class MarketplaceService {
  private readonly lists: MarketplaceLists;

  constructor(private readonly deps: MarketplaceDeps) {
    this.lists = new MarketplaceLists(deps.db);
  }

  private get db() {
    return this.deps.db;
  }

  private act(actor: Party, caller: Caller | null, context: RequestContext | null): Act {
    return { actor, actorId: caller?.id ?? null, context, now: this.deps.clock.now() };
  }

  /** A flow's transaction; mail queued by it goes out as soon as it commits. */
  private async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(async (tx) => {
      // A row held by a stuck transaction must not hold accepts and transitions for the whole
      // statement timeout: past DB_LOCK_TIMEOUT_MS the caller gets 503 with Retry-After.
      await tx.execute(
        sql`select set_config('lock_timeout', ${String(this.deps.config.dbLockTimeoutMs)}, true)`,
      );
      return work(tx);
    });
    this.deps.jobs.wake();
    return result;
  }

  // Requests (homeowners)

  async openRequest(caller: Caller, input: JobRequestInput, context: RequestContext) {
    const act = this.act('homeowner', caller, context);
    const property = await findProperty(this.db, caller.id, input.propertyId);
    if (!property) throw notFound('No such property.');
    const fields = this.checkedRequestFields(input, act.now);
    const postalCode = normalisePostalCode(property.postalCode);
    let directProviderId: string | null = null;
    if (input.serviceId) {
      const service = await findQuotableService(
        this.db,
        null,
        input.serviceId,
        input.category,
        postalCode,
      );
      if (!service) {
        throw invalid([
          fieldError(
            '/body/serviceId',
            'is not an active service in this category serving the property’s postal code',
          ),
        ]);
      }
      directProviderId = service.providerId;
    }
    return this.transaction(async (tx) => {
      const row = await insertRequest(tx, {
        ...fields,
        homeownerId: caller.id,
        propertyId: property.id,
        serviceId: input.serviceId ?? null,
        directProviderId,
        category: input.category,
        postalCode,
        city: property.city,
        expiresAt: addDays(act.now, REQUEST_TTL_DAYS),
      });
      await this.created(tx, 'request.open', row, act);
      if (directProviderId) {
        await this.deps.openThread(tx, {
          requestId: row.id,
          homeownerId: caller.id,
          providerId: directProviderId,
          now: act.now,
        });
      }
      return row;
    });
  }

  listRequests(caller: Caller, page: PageFilter) {
    return this.lists.homeownerRequests(caller.id, page);
  }

  async getRequest(caller: Caller, id: string): Promise<RequestRow> {
    const row = await findRequest(this.db, id);
    if (!row || row.homeownerId !== caller.id) throw notFound('No such request.');
    return row;
  }

  async updateRequest(caller: Caller, id: string, patch: JobRequestPatch) {
    const now = this.deps.clock.now();
    return this.transaction(async (tx) => {
      const current = await lockOwnRequest(tx, caller.id, id);
      if (!current) throw notFound('No such request.');
      if (current.state !== 'open') throw requestClosed(`The request is ${current.state}.`);
      if (await hasQuotes(tx, id)) {
        throw invalidState('The request has quotes: it can no longer be changed.');
      }
      const merged = {
        earliestDate: current.earliestDate,
        latestDate: current.latestDate,
        budgetCents: current.budgetCents,
        currency: current.currency,
        ...patch,
      };
      this.checkedRequestFields(
        { ...merged, title: patch.title ?? current.title, description: current.description },
        now,
        patch.earliestDate === undefined,
      );
      const changes = Object.fromEntries(
        Object.entries(patch).map(([key, value]) => [
          key,
          typeof value === 'string' && (key === 'title' || key === 'description')
            ? value.trim()
            : value,
        ]),
      );
      const row = await updateRequestFields(tx, id, changes);
      if (!row) throw requestClosed();
      return row;
    });
  }

  async cancelRequest(
    caller: Caller,
    id: string,
    reason: string | undefined,
    context: RequestContext,
  ) {
    const act = this.act('homeowner', caller, context);
    return this.transaction(async (tx) => {
      const current = await lockOwnRequest(tx, caller.id, id);
      if (!current) throw notFound('No such request.');
      const row = await this.fire(tx, 'request.cancel', id, act, {
        cancelReason: reason?.trim() ?? null,
      });
      if (!row) throw invalidState(`The request is ${current.state}: it cannot be cancelled.`);
      return row as RequestRow;
    });
  }

  async listQuotes(caller: Caller, requestId: string, page: PageFilter) {
    await this.getRequest(caller, requestId);
    return asQuotes(await this.lists.requestQuotes(requestId, page));
  }

  /** One transaction: the quote accepted, the request booked, the other quotes declined, the booking made. */
  async accept(caller: Caller, requestId: string, quoteId: string, context: RequestContext) {
    const act = this.act('homeowner', caller, context);
    const bookingId = await this.transaction(async (tx) => {
      // The request's row lock makes concurrent accepts on it run one after the other.
      const request = await lockOwnRequest(tx, caller.id, requestId);
      if (!request) throw notFound('No such request.');
      const quote = await findQuote(tx, quoteId);
      if (!quote || quote.requestId !== requestId) throw notFound('No such quote.');
      if (request.state !== 'open') throw requestClosed(`The request is ${request.state}.`);
      // Past its validUntil it is expired, whether or not its timer has run yet.
      if (quote.state === 'expired' || quote.validUntil <= act.now) throw quoteExpired();
      if (quote.state !== 'live') throw invalidState(`The quote is ${quote.state}.`);
      const outcome: Outcome = {};
      const row = await this.fire(tx, 'quote.accept', quoteId, act, {}, outcome);
      if (!row || !outcome.bookingId) throw invalidState('The quote is no longer live.');
      return outcome.bookingId;
    });
    return this.bookingView(bookingId);
  }

  // The provider's side: feed and quotes

  feed(caller: Caller, filter: FeedFilter) {
    return this.lists.feed(caller.id, filter);
  }

  async getOpenRequest(caller: Caller, id: string) {
    const row = await findServableRequest(this.db, caller.id, id);
    if (!row) throw notFound('No such request.');
    return row;
  }

  /** A provider's quote; a second one replaces their live quote (a revision). */
  async submitQuote(caller: Caller, requestId: string, input: QuoteInput, context: RequestContext) {
    const act = this.act('provider', caller, context);
    const validUntil = new Date(input.validUntil);
    const proposedStart = new Date(input.proposedStart);
    const errors: FieldError[] = [];
    if (validUntil <= act.now) errors.push(fieldError('/body/validUntil', 'must be in the future'));
    if (validUntil > addDays(act.now, QUOTE_VALIDITY_MAX_DAYS)) {
      errors.push(fieldError('/body/validUntil', `must be within ${QUOTE_VALIDITY_MAX_DAYS} days`));
    }
    if (proposedStart <= act.now) {
      errors.push(fieldError('/body/proposedStart', 'must be in the future'));
    }
    if (proposedStart > addDays(act.now, WINDOW_MAX_DAYS)) {
      errors.push(fieldError('/body/proposedStart', `must be within ${WINDOW_MAX_DAYS} days`));
    }
    const id = await this.transaction(async (tx) => {
      const request = await findRequest(tx, requestId);
      if (!request || !(await canServe(tx, caller.id, requestId))) {
        throw notFound('No such request.');
      }
      if (request.state !== 'open') throw requestClosed(`The request is ${request.state}.`);
      if (errors.length > 0) throw invalid(errors);
      const service = await findQuotableService(
        tx,
        caller.id,
        input.serviceId,
        request.category,
        request.postalCode,
      );
      if (!service) {
        throw invalid([
          fieldError(
            '/body/serviceId',
            'is not one of your active services in this category and postal code',
          ),
        ]);
      }
      const live = await findLiveQuote(tx, requestId, caller.id);
      if (live) await this.fire(tx, 'quote.replace', live.id, act);
      const row = await insertQuote(tx, {
        requestId,
        providerId: caller.id,
        serviceId: service.id,
        priceCents: input.priceCents,
        currency: input.currency,
        message: input.message.trim(),
        validUntil,
        proposedStart,
      });
      await this.created(tx, 'quote.submit', row, act);
      if (request.homeownerId) {
        await this.deps.openThread(tx, {
          requestId,
          homeownerId: request.homeownerId,
          providerId: caller.id,
          now: act.now,
        });
      }
      return row.id;
    });
    return this.quoteView(id);
  }

  async withdrawQuote(caller: Caller, quoteId: string, context: RequestContext) {
    const act = this.act('provider', caller, context);
    const quote = await findQuote(this.db, quoteId);
    if (!quote || quote.providerId !== caller.id) throw notFound('No such quote.');
    await this.transaction(async (tx) => {
      const row = await this.fire(tx, 'quote.withdraw', quoteId, act);
      if (!row) throw invalidState(`The quote is ${quote.state}: it cannot be withdrawn.`);
    });
    return this.quoteView(quoteId);
  }

  // Bookings

  async getBooking(caller: Caller, id: string) {
    const booking = await findBooking(this.db, id);
    if (!booking || !(this.partyOf(caller, booking) || this.isAdmin(caller))) {
      throw notFound('No such booking.');
    }
    return this.bookingView(id);
  }

  async listBookings(
    caller: Caller,
    side: 'homeowner' | 'provider' | 'admin',
    filter: BookingFilter,
  ) {
    const party =
      side === 'homeowner'
        ? { homeownerId: caller.id }
        : side === 'provider'
          ? { providerId: caller.id }
          : undefined;
    return asBookings(await this.lists.bookings({ ...filter, ...(party && { party }) }));
  }

  /**
   * A party's transition: a stranger gets 404, a party the table does not name as its actor 403,
   * and a booking in a state the transition does not leave from 409 `invalid_state`.
   */
  async moveBooking(
    caller: Caller,
    id: string,
    verb: BookingVerb,
    body: { reason?: string },
    context: RequestContext,
  ) {
    const booking = await findBooking(this.db, id);
    const party = booking && this.partyOf(caller, booking);
    if (!booking || !party) throw notFound('No such booking.');
    const name = `booking.${verb}` as const;
    if (!may(TRANSITIONS[name], party)) {
      throw forbidden(`Only the ${TRANSITIONS[name].actors.join(' or ')} may ${verb} a booking.`);
    }
    const act = this.act(party, caller, context);
    if (
      verb === 'dispute' &&
      booking.state === 'completed' &&
      booking.completedAt &&
      addDays(booking.completedAt, DISPUTE_WINDOW_DAYS) <= act.now
    ) {
      throw invalidState(`The ${DISPUTE_WINDOW_DAYS}-day dispute window has closed.`);
    }
    const reason = body.reason?.trim();
    const set =
      verb === 'cancel'
        ? { cancelledBy: party, cancelReason: reason ?? null }
        : verb === 'dispute'
          ? { disputeReason: reason ?? null }
          : {};
    await this.transaction(async (tx) => {
      const row = await this.fire(tx, name, id, act, set);
      if (!row) throw invalidState(`The booking is ${booking.state}: it cannot ${verb}.`);
    });
    return this.bookingView(id);
  }

  async resolveDispute(caller: Caller, id: string, resolution: string, context: RequestContext) {
    const booking = await findBooking(this.db, id);
    if (!booking) throw notFound('No such booking.');
    const act = this.act('admin', caller, context);
    await this.transaction(async (tx) => {
      const row = await this.fire(tx, 'booking.resolve', id, act, {
        resolution: resolution.trim(),
      });
      if (!row) throw invalidState(`The booking is ${booking.state}: there is no dispute.`);
    });
    return this.bookingView(id);
  }

  // Timers and the other modules' flows

  /** A timed transition, run by its job; idempotent: a second run finds the state moved on. */
  async runTimer(name: TimerName, id: string, now: Date): Promise<boolean> {
    const act: Act = { actor: 'system', actorId: null, context: null, now };
    const moved = await this.transaction(async (tx) => Boolean(await this.fire(tx, name, id, act)));
    return moved;
  }

  /**
   * A user is deleted or disabled: their open requests are cancelled and their live quotes
   * withdrawn, in the caller's transaction. Bookings stay as they are.
   */
  async closeAccount(tx: Db, userId: string, context: RequestContext | null): Promise<void> {
    const act: Act = { actor: 'system', actorId: null, context, now: this.deps.clock.now() };
    for (const id of await openRequestIdsOf(tx, userId)) {
      await this.fire(tx, 'request.cancel', id, act, { cancelReason: 'The account was closed.' });
    }
    for (const id of await liveQuoteIds(tx, quotesByProvider(userId))) {
      await this.fire(tx, 'quote.withdraw', id, act);
    }
  }

  /** A service was deactivated or deleted: the live quotes made through it are withdrawn. */
  async serviceWithdrawn(tx: Db, serviceId: string): Promise<void> {
    const act: Act = { actor: 'system', actorId: null, context: null, now: this.deps.clock.now() };
    for (const id of await liveQuoteIds(tx, quotesForService(serviceId))) {
      await this.fire(tx, 'quote.withdraw', id, act);
    }
  }

  /** After a commit that queued mail outside the service's own transactions. */
  wake(): void {
    this.deps.jobs.wake();
  }

  // The executor

  /**
   * Executes one transition of the table: the compare-and-set from its `from` states, then its
   * effects. Undefined when the row was in another state (nothing changed).
   */
  private async fire(
    tx: Db,
    name: TransitionName,
    id: string,
    act: Act,
    set: Record<string, unknown> = {},
    outcome: Outcome = {},
  ): Promise<Row | undefined> {
    const transition: Transition = TRANSITIONS[name];
    if (!may(transition, act.actor)) throw forbidden();
    let row: Row | undefined;
    if (transition.entity === 'request') {
      row = await casRequest(
        tx,
        id,
        transition.from as RequestRow['state'][],
        transition.to as RequestRow['state'],
        set,
      );
    } else if (transition.entity === 'quote') {
      row = await casQuote(
        tx,
        id,
        transition.from as QuoteRow['state'][],
        transition.to as QuoteRow['state'],
      );
    } else {
      const stamps = {
        ...(transition.effects.includes('stamp-completion') && { completedAt: act.now }),
        // The review window (modules/reviews) runs from here, however the booking got confirmed.
        ...(transition.to === 'confirmed' && { confirmedAt: act.now }),
        ...(transition.effects.includes('flag-late-cancellation') && {
          lateCancellation: sql`${bookings.proposedStart} < ${act.now.toISOString()}::timestamptz + make_interval(hours => ${LATE_CANCELLATION_HOURS})`,
        }),
      };
      row = await casBooking(
        tx,
        id,
        transition.from as BookingRow['state'][],
        transition.to as BookingRow['state'],
        { ...set, ...stamps },
      );
    }
    if (!row) return undefined;
    await this.effects(tx, transition, row, act, outcome);
    return row;
  }

  /** A creation: the row was inserted in the transition's `to` state; its effects follow. */
  private async created(tx: Db, name: TransitionName, row: Row, act: Act, outcome: Outcome = {}) {
    const transition: Transition = TRANSITIONS[name];
    if (!may(transition, act.actor)) throw forbidden();
    await this.effects(tx, transition, row, act, outcome);
  }

  private async effects(tx: Db, transition: Transition, row: Row, act: Act, outcome: Outcome) {
    const facts = await this.factsOf(tx, transition, row);
    for (const effect of transition.effects) {
      switch (effect) {
        case 'audit':
          await recordAudit(tx, this.deps.logger, act.context, {
            type: transition.name as `${'request' | 'quote' | 'booking'}.${string}`,
            actorId: act.actorId,
            subjectId: row.id,
            data: { entity: transition.entity, actor: act.actor, to: transition.to },
          });
          break;
        case 'mail':
          await this.mail(tx, transition, act, facts);
          break;
        case 'schedule:request.expire':
          await this.schedule(tx, 'request.expire', row.id, (row as RequestRow).expiresAt);
          break;
        case 'schedule:quote.expire':
          await this.schedule(tx, 'quote.expire', row.id, (row as QuoteRow).validUntil);
          break;
        case 'schedule:booking.autoconfirm':
          await this.schedule(
            tx,
            'booking.autoconfirm',
            row.id,
            addDays((row as BookingRow).completedAt ?? act.now, DISPUTE_WINDOW_DAYS),
          );
          break;
        case 'decline-live-quotes':
          for (const id of await liveQuoteIds(tx, quotesOnRequest(row.id))) {
            await this.fire(tx, 'quote.decline', id, { ...act, actor: 'system' });
          }
          break;
        case 'decline-other-quotes': {
          const quote = row as QuoteRow;
          for (const id of await liveQuoteIds(tx, quotesOnRequest(quote.requestId, quote.id))) {
            await this.fire(tx, 'quote.decline', id, { ...act, actor: 'system' });
          }
          break;
        }
        case 'book-request': {
          const booked = await this.fire(tx, 'request.book', (row as QuoteRow).requestId, act);
          if (!booked) throw requestClosed();
          break;
        }
        case 'create-booking': {
          const quote = row as QuoteRow;
          const booking = await insertBooking(tx, {
            requestId: quote.requestId,
            quoteId: quote.id,
            homeownerId: facts.homeownerId,
            providerId: quote.providerId,
            priceCents: quote.priceCents,
            currency: quote.currency,
            proposedStart: quote.proposedStart,
          });
          await this.created(tx, 'booking.create', booking, act);
          outcome.bookingId = booking.id;
          break;
        }
        case 'stamp-completion':
        case 'flag-late-cancellation':
          break; // written by the compare-and-set itself (fire)
      }
    }
  }

  /** The parties, title and links of the row a transition moved, for its mail. */
  private async factsOf(tx: Db, transition: Transition, row: Row) {
    if (transition.entity === 'request') {
      const request = row as RequestRow;
      return {
        homeownerId: request.homeownerId,
        providerId: null,
        title: request.title,
        paths: { homeowner: `/homeowners/requests/${request.id}`, provider: '' },
        note: request.cancelReason,
      };
    }
    const requestId = (row as QuoteRow | BookingRow).requestId;
    const request = await findRequest(tx, requestId);
    const providerId = (row as QuoteRow | BookingRow).providerId;
    if (transition.entity === 'quote') {
      return {
        homeownerId: request?.homeownerId ?? null,
        providerId,
        title: request?.title ?? '',
        paths: {
          homeowner: `/homeowners/requests/${requestId}/quotes`,
          provider: `/service-providers/requests/${requestId}`,
        },
        note: null,
      };
    }
    const booking = row as BookingRow;
    return {
      homeownerId: booking.homeownerId,
      providerId,
      title: request?.title ?? '',
      paths: { homeowner: `/bookings/${booking.id}`, provider: `/bookings/${booking.id}` },
      note: booking.cancelReason ?? booking.disputeReason ?? booking.resolution,
    };
  }

  /** The transition's `notify` recipients: a notification each, and a mail if they want it. */
  private async mail(
    tx: Db,
    transition: Transition,
    act: Act,
    facts: Awaited<ReturnType<MarketplaceService['factsOf']>>,
  ) {
    const parties: Array<'homeowner' | 'provider'> =
      transition.notify === 'homeowner' || transition.notify === 'provider'
        ? [transition.notify]
        : transition.notify === 'other'
          ? act.actor === 'homeowner'
            ? ['provider']
            : act.actor === 'provider'
              ? ['homeowner']
              : ['homeowner', 'provider']
          : [];
    const kind = kindOf(transition);
    const summary = marketplaceSummary(transition.name, facts.title);
    for (const party of parties) {
      const userId = party === 'homeowner' ? facts.homeownerId : facts.providerId;
      const contact = await contactOf(tx, userId);
      if (!userId || !contact) continue; // the account is gone: nobody to tell
      // The notification row always; the mail only if the recipient wants this kind by mail.
      // This is the one mail of the event: notify() writes rows and never mails.
      await this.deps.notifications.notify(tx, {
        userId,
        kind,
        title: summary.subject,
        body: facts.note ? `${summary.line} Note: ${facts.note}` : summary.line,
        ...(facts.paths[party] && { link: facts.paths[party] }),
      });
      if (!(await this.deps.notifications.shouldMail(userId, kind, tx))) continue;
      await enqueueMail(tx, this.deps.sealer, this.deps.clock, {
        to: contact.email,
        template: `marketplace.${transition.name}`,
        content: marketplaceMail(transition.name, this.deps.config.publicAppUrl, contact.fullName, {
          title: facts.title,
          path: facts.paths[party],
          note: facts.note,
        }),
      });
    }
  }

  private async schedule(tx: Db, name: TimerName, id: string, runAt: Date) {
    await this.deps.jobs.schedule(tx, `marketplace.${name}`, { id }, { runAt, key: id });
  }

  // Views and checks

  private partyOf(caller: Caller, booking: BookingRow): 'homeowner' | 'provider' | undefined {
    if (booking.homeownerId === caller.id) return 'homeowner';
    if (booking.providerId === caller.id) return 'provider';
    return undefined;
  }

  private isAdmin(caller: Caller): boolean {
    return caller.permissions.includes('bookings:manage');
  }

  private async bookingView(id: string): Promise<BookingView> {
    const [view] = asBookings([await findBookingView(this.db, id)].filter(Boolean));
    if (!view) throw notFound('No such booking.');
    return view;
  }

  private async quoteView(id: string): Promise<QuoteView> {
    const [view] = asQuotes([await findQuoteView(this.db, id)].filter(Boolean));
    if (!view) throw notFound('No such quote.');
    return view;
  }

  /** The window and budget rules that a schema cannot say; trimmed values to store. */
  private checkedRequestFields(
    input: Pick<JobRequestInput, 'title' | 'description' | 'earliestDate' | 'latestDate'> & {
      timeOfDay?: JobRequestInput['timeOfDay'];
      budgetCents?: number | null | undefined;
      currency?: string | null | undefined;
    },
    now: Date,
    keepPastStart = false,
  ) {
    const errors: FieldError[] = [];
    const start = input.earliestDate;
    const end = input.latestDate;
    if (!keepPastStart && start < today(now)) {
      errors.push(fieldError('/body/earliestDate', 'must be today or later'));
    }
    if (end < start) errors.push(fieldError('/body/latestDate', 'must not be before earliestDate'));
    if (end > today(addDays(now, WINDOW_MAX_DAYS))) {
      errors.push(fieldError('/body/latestDate', `must be within ${WINDOW_MAX_DAYS} days`));
    }
    const hasBudget = input.budgetCents !== undefined && input.budgetCents !== null;
    const hasCurrency = input.currency !== undefined && input.currency !== null;
    if (hasBudget !== hasCurrency) {
      errors.push(
        fieldError(hasBudget ? '/body/currency' : '/body/budgetCents', 'comes with the other'),
      );
    }
    if (errors.length > 0) throw invalid(errors);
    return {
      title: input.title.trim(),
      description: input.description.trim(),
      earliestDate: start,
      latestDate: end,
      timeOfDay: input.timeOfDay ?? null,
      budgetCents: input.budgetCents ?? null,
      currency: (input.currency as string | null | undefined) ?? null,
    };
  }
}
