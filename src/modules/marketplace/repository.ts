import {
  type AnyColumn,
  and,
  eq,
  getTableColumns,
  inArray,
  lt,
  ne,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import {
  type BookingState,
  bookings,
  jobRequests,
  properties,
  type QuoteState,
  quotes,
  type RequestState,
  type ServiceCategory,
  serviceAreas,
  services,
  users,
} from '../../db/schema.js';
import { literalLimit } from '../../lib/prepared.js';

/*
 * The marketplace's SQL; only this module writes job_requests, quotes and bookings. A state
 * changes only through the compare-and-set functions (cas*), which MarketplaceService calls from
 * the transition table.
 */

export type RequestRow = typeof jobRequests.$inferSelect;
export type QuoteRow = typeof quotes.$inferSelect;
export type BookingRow = typeof bookings.$inferSelect;

const {
  homeownerId: _homeowner,
  directProviderId: _direct,
  ...requestColumns
} = getTableColumns(jobRequests);

export interface PageFilter {
  limit: number;
  /** Id of the last row of the previous page. */
  after?: string | undefined;
}

// Requests

export async function insertRequest(
  tx: Db,
  values: typeof jobRequests.$inferInsert,
): Promise<RequestRow> {
  const [row] = await tx.insert(jobRequests).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** A homeowner's requests, newest first: one range of job_requests_homeowner_idx. */
export function homeownerRequestsQuery(db: Db, homeownerId: string, filter: PageFilter) {
  const conditions: SQL[] = [eq(jobRequests.homeownerId, homeownerId)];
  if (filter.after) conditions.push(lt(jobRequests.id, filter.after));
  return db
    .select(requestColumns)
    .from(jobRequests)
    .where(and(...conditions))
    .orderBy(sql`${jobRequests.id} desc nulls last`)
    .limit(filter.limit);
}

export async function findRequest(db: Db, id: string): Promise<RequestRow | undefined> {
  const [row] = await db.select().from(jobRequests).where(eq(jobRequests.id, id));
  return row;
}

/** The caller's request, locked for the rest of the transaction. */
export async function lockOwnRequest(
  tx: Db,
  homeownerId: string,
  id: string,
): Promise<RequestRow | undefined> {
  const [row] = await tx
    .select()
    .from(jobRequests)
    .where(and(eq(jobRequests.id, id), eq(jobRequests.homeownerId, homeownerId)))
    .for('update');
  return row;
}

export async function updateRequestFields(
  tx: Db,
  id: string,
  values: Partial<typeof jobRequests.$inferInsert>,
): Promise<RequestRow | undefined> {
  const [row] = await tx
    .update(jobRequests)
    .set(values)
    .where(and(eq(jobRequests.id, id), eq(jobRequests.state, 'open')))
    .returning();
  return row;
}

/** Compare-and-set: the state moves only from one of `from`; undefined when it was elsewhere. */
export async function casRequest(
  tx: Db,
  id: string,
  from: readonly RequestState[],
  to: RequestState,
  set: Partial<typeof jobRequests.$inferInsert> = {},
): Promise<RequestRow | undefined> {
  const [row] = await tx
    .update(jobRequests)
    .set({ ...set, state: to })
    .where(and(eq(jobRequests.id, id), inArray(jobRequests.state, [...from])))
    .returning();
  return row;
}

export async function openRequestIdsOf(tx: Db, homeownerId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: jobRequests.id })
    .from(jobRequests)
    .where(and(eq(jobRequests.homeownerId, homeownerId), eq(jobRequests.state, 'open')));
  return rows.map((row) => row.id);
}

export async function hasQuotes(tx: Db, requestId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: quotes.id })
    .from(quotes)
    .where(eq(quotes.requestId, requestId))
    .limit(1);
  return Boolean(row);
}

// The provider feed

export interface FeedFilter extends PageFilter {
  category?: ServiceCategory | undefined;
  /** Normalised as service areas store it. */
  postalCode?: string | undefined;
}

/**
 * The provider serves (category, postal code) through one of their active services. `offset 0`
 * keeps the probe a subplan run per request read: without it the planner may turn the semi-join
 * around (the provider's distinct areas first, then every open request older than the cursor in
 * each, sorted), which reads the whole tail of the feed for a deep page instead of stopping at the
 * page's limit; which of the two it picks wavered with ANALYZE's sample.
 */
const servedBy = (providerId: string) => sql`exists (
  select 1 from ${serviceAreas}
   where ${serviceAreas.providerId} = ${providerId}
     and ${serviceAreas.category} = ${jobRequests.category}
     and ${serviceAreas.postalCode} = ${jobRequests.postalCode}
  offset 0)`;
const addressedTo = (providerId: string) =>
  sql`(${jobRequests.directProviderId} is null or ${jobRequests.directProviderId} = ${providerId})`;

const openColumns = {
  id: jobRequests.id,
  category: jobRequests.category,
  title: jobRequests.title,
  description: jobRequests.description,
  postalCode: jobRequests.postalCode,
  city: jobRequests.city,
  earliestDate: jobRequests.earliestDate,
  latestDate: jobRequests.latestDate,
  timeOfDay: jobRequests.timeOfDay,
  budgetCents: jobRequests.budgetCents,
  currency: jobRequests.currency,
  direct: sql<boolean>`${jobRequests.directProviderId} is not null`,
  expiresAt: jobRequests.expiresAt,
  createdAt: jobRequests.createdAt,
};

/**
 * A provider serving at most this many (category, postal code) areas has the feed read area by
 * area; one serving more has the open requests walked newest first. Reading by area costs at most
 * a page per area; the walk costs a probe per open request read, about a page divided by the share
 * of the marketplace's requests the provider serves. Measured on the EXPLAIN tests' seed (15 areas
 * a provider, ~2 % of the marketplace): 164 buffers by area against 3,244 walked; on the bench's
 * (220 areas, ~6 %) the walk reads 1,503 and by area would read several times that.
 */
export const FEED_AREAS_READ_ONE_BY_ONE = 100;

/**
 * The open requests a provider can serve and has no live quote on, newest first. Built, not run,
 * so a test can EXPLAIN what the route runs. The statement holds both reads of the page's ids and
 * runs one, chosen by the count of areas the provider serves (an InitPlan, so the other is never
 * executed); the page's rows are then read by primary key:
 * - by area: for each of the provider's areas (the filters narrow them), the newest `limit`
 *   matching requests from one range of job_requests_feed_idx (category, postal code, id desc),
 *   then the newest `limit` of those;
 * - the walk: one range of job_requests_open_idx (id desc), each request read costing one probe
 *   of service_areas_provider_idx (does the provider serve its category and postal code).
 * Each candidate costs one probe of quotes_live_key. `'open'` is a literal, not a parameter, so
 * that the prepared statement's generic plan can use the partial indexes.
 */
export function feedQuery(db: Db, providerId: string, filter: FeedFilter) {
  const unquoted = sql`not exists (select 1 from ${quotes} where ${quotes.requestId} = ${jobRequests.id}
                     and ${quotes.providerId} = ${providerId} and ${quotes.state} = 'live')`;
  const narrowing = (category: AnyColumn, postalCode: AnyColumn) => [
    ...(filter.category ? [eq(category, filter.category)] : []),
    ...(filter.postalCode ? [eq(postalCode, filter.postalCode)] : []),
  ];
  const candidates = (...conditions: SQL[]) => sql`select ${jobRequests.id} from ${jobRequests}
     where ${and(
       sql`${jobRequests.state} = 'open'`,
       addressedTo(providerId),
       unquoted,
       ...(filter.after ? [lt(jobRequests.id, filter.after)] : []),
       ...conditions,
     )}
     order by ${jobRequests.id} desc nulls last limit ${filter.limit}`;
  const areas = sql`select distinct ${serviceAreas.category} as category, ${serviceAreas.postalCode} as postal_code
      from ${serviceAreas}
     where ${and(eq(serviceAreas.providerId, providerId), ...narrowing(serviceAreas.category, serviceAreas.postalCode))}`;
  const byArea = sql`select page.id from (${areas}) area cross join lateral (${candidates(
    sql`${jobRequests.category} = area.category`,
    sql`${jobRequests.postalCode} = area.postal_code`,
  )}) page order by page.id desc limit ${filter.limit}`;
  const walked = candidates(
    servedBy(providerId),
    ...narrowing(jobRequests.category, jobRequests.postalCode),
  );
  return db
    .select(openColumns)
    .from(jobRequests)
    .where(
      sql`${jobRequests.id} = any(case
        when (select count(*) from (${areas} limit ${sql.raw(String(FEED_AREAS_READ_ONE_BY_ONE + 1))}) area)
             <= ${sql.raw(String(FEED_AREAS_READ_ONE_BY_ONE))}
        then array(${byArea}) else array(${walked}) end)`,
    )
    .orderBy(sql`${jobRequests.id} desc nulls last`)
    .limit(filter.limit);
}

/** One open request the provider can serve (quoted or not); undefined for any other. */
export async function findServableRequest(db: Db, providerId: string, id: string) {
  const [row] = await db
    .select(openColumns)
    .from(jobRequests)
    .where(
      and(
        eq(jobRequests.id, id),
        eq(jobRequests.state, 'open'),
        addressedTo(providerId),
        servedBy(providerId),
      ),
    );
  return row;
}

/** Whether the provider may visit the request at all (any state): addressed to them and served. */
export async function canServe(tx: Db, providerId: string, requestId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: jobRequests.id })
    .from(jobRequests)
    .where(and(eq(jobRequests.id, requestId), addressedTo(providerId), servedBy(providerId)));
  return Boolean(row);
}

/** The provider's active service in this category and postal code, if `serviceId` is one. */
export async function findQuotableService(
  db: Db,
  /** null: any provider's (a direct request names someone else's service). */
  providerId: string | null,
  serviceId: string,
  category: string,
  postalCode: string,
): Promise<{ id: string; providerId: string } | undefined> {
  const [row] = await db
    .select({ id: services.id, providerId: services.providerId })
    .from(serviceAreas)
    .innerJoin(services, eq(services.id, serviceAreas.serviceId))
    .where(
      and(
        eq(serviceAreas.serviceId, serviceId),
        eq(serviceAreas.postalCode, postalCode),
        eq(serviceAreas.category, category as ServiceCategory),
        ...(providerId ? [eq(services.providerId, providerId)] : []),
      ),
    );
  return row;
}

// Quotes

export async function insertQuote(tx: Db, values: typeof quotes.$inferInsert): Promise<QuoteRow> {
  const [row] = await tx.insert(quotes).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function casQuote(
  tx: Db,
  id: string,
  from: readonly QuoteState[],
  to: QuoteState,
  extra: SQL[] = [],
): Promise<QuoteRow | undefined> {
  const [row] = await tx
    .update(quotes)
    .set({ state: to })
    .where(and(eq(quotes.id, id), inArray(quotes.state, [...from]), ...extra))
    .returning();
  return row;
}

export async function findQuote(db: Db, id: string): Promise<QuoteRow | undefined> {
  const [row] = await db.select().from(quotes).where(eq(quotes.id, id));
  return row;
}

export async function findLiveQuote(
  tx: Db,
  requestId: string,
  providerId: string,
): Promise<QuoteRow | undefined> {
  const [row] = await tx
    .select()
    .from(quotes)
    .where(
      and(
        eq(quotes.requestId, requestId),
        eq(quotes.providerId, providerId),
        eq(quotes.state, 'live'),
      ),
    );
  return row;
}

/** Ids of the live quotes matching `where`, for transitions run one by one. */
export async function liveQuoteIds(tx: Db, where: SQL): Promise<string[]> {
  const rows = await tx
    .select({ id: quotes.id })
    .from(quotes)
    .where(and(eq(quotes.state, 'live'), where));
  return rows.map((row) => row.id);
}
export const quotesOnRequest = (requestId: string, except?: string) =>
  and(eq(quotes.requestId, requestId), ...(except ? [ne(quotes.id, except)] : [])) as SQL;
export const quotesByProvider = (providerId: string) => eq(quotes.providerId, providerId);
export const quotesForService = (serviceId: string) => eq(quotes.serviceId, serviceId);

const quoteView = {
  id: quotes.id,
  requestId: quotes.requestId,
  state: quotes.state,
  priceCents: quotes.priceCents,
  currency: quotes.currency,
  message: quotes.message,
  validUntil: quotes.validUntil,
  proposedStart: quotes.proposedStart,
  provider: { id: users.id, fullName: users.fullName },
  service: { id: services.id, title: services.title },
  createdAt: quotes.createdAt,
  updatedAt: quotes.updatedAt,
};

/** The quotes on a request (revisions' replaced ones left out), newest first: quotes_request_idx. */
export function requestQuotesQuery(db: Db, requestId: string, filter: PageFilter) {
  const conditions: SQL[] = [eq(quotes.requestId, requestId), ne(quotes.state, 'replaced')];
  if (filter.after) conditions.push(lt(quotes.id, filter.after));
  return db
    .select(quoteView)
    .from(quotes)
    .leftJoin(users, eq(users.id, quotes.providerId))
    .leftJoin(services, eq(services.id, quotes.serviceId))
    .where(inArray(quotes.id, pageOf(db, quotes, conditions, filter.limit)))
    .orderBy(sql`${quotes.id} desc nulls last`)
    .limit(filter.limit);
}

/**
 * The ids of one page, newest first: the index range and its limit, planned on their own, so the
 * joins that dress the page up run for its rows only, whatever the planner thinks of their sizes.
 */
function pageOf(db: Db, table: typeof quotes, where: SQL[], limit: number) {
  return db
    .select({ id: table.id })
    .from(table)
    .where(and(...where))
    .orderBy(sql`${table.id} desc nulls last`)
    .limit(limit);
}

export async function findQuoteView(db: Db, id: string) {
  const [row] = await db
    .select(quoteView)
    .from(quotes)
    .leftJoin(users, eq(users.id, quotes.providerId))
    .leftJoin(services, eq(services.id, quotes.serviceId))
    .where(eq(quotes.id, id));
  return row;
}

// Bookings

export async function insertBooking(
  tx: Db,
  values: typeof bookings.$inferInsert,
): Promise<BookingRow> {
  const [row] = await tx.insert(bookings).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function findBooking(db: Db, id: string): Promise<BookingRow | undefined> {
  const [row] = await db.select().from(bookings).where(eq(bookings.id, id));
  return row;
}

export async function casBooking(
  tx: Db,
  id: string,
  from: readonly BookingState[],
  to: BookingState,
  set: { [K in keyof typeof bookings.$inferInsert]?: (typeof bookings.$inferInsert)[K] | SQL } = {},
): Promise<BookingRow | undefined> {
  const [row] = await tx
    .update(bookings)
    .set({ ...set, state: to })
    .where(and(eq(bookings.id, id), inArray(bookings.state, [...from])))
    .returning();
  return row;
}

/**
 * A party's contact, read by primary key for each row of a page (`limit 1` keeps the subquery
 * lateral, so the planner cannot turn it into a scan of users hashed against the page).
 */
const partyContact = (db: Db, userId: AnyColumn, name: string) =>
  db
    .select({ id: users.id, fullName: users.fullName, email: users.email, phone: users.phone })
    .from(users)
    .where(eq(users.id, sql`${userId}`))
    .limit(literalLimit(1))
    .as(name);
const contact = (party: ReturnType<typeof partyContact>) => ({
  id: party.id,
  fullName: party.fullName,
  email: party.email,
  phone: party.phone,
});

/**
 * A booking dressed with its request, address and parties. `page` is the bookings subquery the
 * view is built on: one row, or one page read as an index range with its limit, so the joins run
 * for the page's rows only, whatever the planner makes of the tables' sizes.
 */
function bookingsDressed(db: Db, where: SQL[], limit: number) {
  const page = db
    .select()
    .from(bookings)
    .where(and(...where))
    .orderBy(sql`${bookings.id} desc nulls last`)
    .limit(limit)
    .as('page');
  const homeowner = partyContact(db, page.homeownerId, 'homeowner');
  const provider = partyContact(db, page.providerId, 'provider');
  return db
    .select({
      id: page.id,
      requestId: page.requestId,
      quoteId: page.quoteId,
      state: page.state,
      title: jobRequests.title,
      description: jobRequests.description,
      category: jobRequests.category,
      priceCents: page.priceCents,
      currency: page.currency,
      proposedStart: page.proposedStart,
      address: {
        addressLine1: properties.addressLine1,
        addressLine2: properties.addressLine2,
        city: properties.city,
        region: properties.region,
        postalCode: properties.postalCode,
        country: properties.country,
      },
      homeowner: contact(homeowner),
      provider: contact(provider),
      cancelledBy: page.cancelledBy,
      cancelReason: page.cancelReason,
      lateCancellation: page.lateCancellation,
      completedAt: page.completedAt,
      disputeReason: page.disputeReason,
      resolution: page.resolution,
      createdAt: page.createdAt,
      updatedAt: page.updatedAt,
    })
    .from(page)
    .innerJoin(jobRequests, eq(jobRequests.id, page.requestId))
    .leftJoin(properties, eq(properties.id, jobRequests.propertyId))
    .leftJoinLateral(homeowner, sql`true`)
    .leftJoinLateral(provider, sql`true`)
    .orderBy(sql`${page.id} desc nulls last`);
}

export async function findBookingView(db: Db, id: string) {
  const [row] = await bookingsDressed(db, [eq(bookings.id, id)], 1);
  return row;
}

export interface BookingFilter extends PageFilter {
  /** Whose bookings: a party's, or every booking (admins). */
  party?: { homeownerId: string } | { providerId: string };
  state?: BookingState | undefined;
}

/**
 * Bookings newest first, one range of bookings_{homeowner,provider}[_state]_idx (or
 * bookings_state_idx / the primary key for an admin); built, not run, for the EXPLAIN tests.
 */
export function bookingsQuery(db: Db, filter: BookingFilter) {
  const conditions: SQL[] = [];
  if (filter.party && 'homeownerId' in filter.party) {
    conditions.push(eq(bookings.homeownerId, filter.party.homeownerId));
  } else if (filter.party) {
    conditions.push(eq(bookings.providerId, filter.party.providerId));
  }
  if (filter.state) conditions.push(eq(bookings.state, filter.state));
  if (filter.after) conditions.push(lt(bookings.id, filter.after));
  return bookingsDressed(db, conditions, filter.limit);
}
