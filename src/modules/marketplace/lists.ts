import type { Db } from '../../db/client.js';
import type { BookingState, ServiceCategory } from '../../db/schema.js';
import { literalLimit, PreparedStatements, placeholder, rowBucket } from '../../lib/prepared.js';
import {
  type BookingFilter,
  bookingsQuery,
  type FeedFilter,
  feedQuery,
  homeownerRequestsQuery,
  type PageFilter,
  requestQuotesQuery,
} from './repository.js';

type Statement<Q extends { prepare(name: string): unknown }> = ReturnType<Q['prepare']>;
type Run = { execute(values: Record<string, unknown>): Promise<unknown[]> };

/** `after` present or not: a part of every list's shape. */
const afterShape = (page: PageFilter) => (page.after ? 'after' : 'first');

/**
 * The marketplace's lists as named prepared statements (src/lib/prepared.ts): the same builders
 * the EXPLAIN tests plan, with placeholders for the values, prepared once per shape.
 */
export class MarketplaceLists {
  readonly #statements = new PreparedStatements<Run>('marketplace');

  constructor(private readonly db: Db) {}

  homeownerRequests(homeownerId: string, page: PageFilter) {
    const rows = rowBucket(page.limit);
    const statement = this.#statements.get(`requests_${afterShape(page)}_${rows}`, (name) =>
      this.#prepare(
        homeownerRequestsQuery(this.db, placeholder('homeownerId'), {
          limit: literalLimit(rows),
          after: page.after && placeholder('after'),
        }),
        name,
      ),
    );
    return statement.execute({ homeownerId, after: page.after }) as Promise<
      Awaited<ReturnType<typeof homeownerRequestsQuery>>
    >;
  }

  requestQuotes(requestId: string, page: PageFilter) {
    const rows = rowBucket(page.limit);
    const statement = this.#statements.get(`quotes_${afterShape(page)}_${rows}`, (name) =>
      this.#prepare(
        requestQuotesQuery(this.db, placeholder('requestId'), {
          limit: literalLimit(rows),
          after: page.after && placeholder('after'),
        }),
        name,
      ),
    );
    return statement.execute({ requestId, after: page.after }) as Promise<
      Awaited<ReturnType<typeof requestQuotesQuery>>
    >;
  }

  feed(providerId: string, filter: FeedFilter) {
    const rows = rowBucket(filter.limit);
    const shape = [
      filter.category ? 'category' : '',
      filter.postalCode ? 'postal' : '',
      afterShape(filter),
      rows,
    ].join('_');
    const statement = this.#statements.get(`feed${shape}`, (name) =>
      this.#prepare(
        feedQuery(this.db, placeholder('providerId'), {
          limit: literalLimit(rows),
          category: filter.category && placeholder<ServiceCategory>('category'),
          postalCode: filter.postalCode && placeholder('postalCode'),
          after: filter.after && placeholder('after'),
        }),
        name,
      ),
    );
    return statement.execute({ providerId, ...filter }) as Promise<
      Awaited<ReturnType<typeof feedQuery>>
    >;
  }

  bookings(filter: BookingFilter) {
    const rows = rowBucket(filter.limit);
    const party = !filter.party ? 'all' : 'homeownerId' in filter.party ? 'homeowner' : 'provider';
    const shape = [party, filter.state ? 'state' : '', afterShape(filter), rows].join('_');
    const statement = this.#statements.get(`bookings_${shape}`, (name) =>
      this.#prepare(
        bookingsQuery(this.db, {
          limit: literalLimit(rows),
          ...(party === 'homeowner' && { party: { homeownerId: placeholder('partyId') } }),
          ...(party === 'provider' && { party: { providerId: placeholder('partyId') } }),
          state: filter.state && placeholder<BookingState>('state'),
          after: filter.after && placeholder('after'),
        }),
        name,
      ),
    );
    const partyId = filter.party && Object.values(filter.party)[0];
    return statement.execute({ partyId, state: filter.state, after: filter.after }) as Promise<
      Awaited<ReturnType<typeof bookingsQuery>>
    >;
  }

  #prepare<Q extends { prepare(name: string): unknown }>(query: Q, name: string): Run {
    return query.prepare(name) as Statement<Q> as Run;
  }
}
