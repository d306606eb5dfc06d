import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKING_STATES, QUOTE_STATES, REQUEST_STATES } from '../../src/db/schema.js';
import {
  allows,
  BOOKING_VERBS,
  may,
  TRANSITIONS,
  type Transition,
} from '../../src/modules/marketplace/transitions.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { booked, type Homeowner, openRequest, type Provider, submitQuote } from './support.js';

/**
 * Generated from the transition table: every state × transition × actor that HTTP can fire.
 * Each case puts the row in the state (straight in the database), fires the transition as the
 * actor and expects what the table says: allowed → 200 and the `to` state; the right actor in a
 * state it does not leave from → 409 invalid_state, the row unchanged; a party the table does
 * not name → 403; anyone who is not a party → 404.
 */
let t: TestContext;
let owner: Homeowner;
let pro: Provider;
let admin: TestUser;
let stranger: { homeowner: TestUser; provider: TestUser };
let bookingId: string;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  const cast = await booked(t);
  owner = cast.owner;
  pro = cast.pro;
  bookingId = cast.bookingId;
  admin = await loginAs(t, ['admin']);
  stranger = {
    homeowner: await loginAs(t, ['homeowner']),
    provider: await loginAs(t, ['service_provider']),
  };
});
afterAll(() => t?.close());

type Actor = 'homeowner' | 'provider' | 'admin' | 'stranger homeowner' | 'stranger provider';
const ACTORS: Actor[] = [
  'homeowner',
  'provider',
  'admin',
  'stranger homeowner',
  'stranger provider',
];
const userOf = (actor: Actor): TestUser =>
  ({
    homeowner: owner,
    provider: pro,
    admin,
    'stranger homeowner': stranger.homeowner,
    'stranger provider': stranger.provider,
  })[actor];

const stateOf = async (table: string, id: string) => {
  const result = (await t.app.db.execute(
    sql`select state from ${sql.identifier(table)} where id = ${id}`,
  )) as unknown as { rows: Array<{ state: string }> };
  return result.rows[0]?.state;
};
const setState = (table: string, id: string, state: string) =>
  t.app.db.execute(sql`update ${sql.identifier(table)} set state = ${state} where id = ${id}`);

/** The status the table promises: the guards' permissions first, then party, actor and state. */
function expected(
  transition: Transition,
  state: string,
  party: 'homeowner' | 'provider' | 'admin' | null,
  permitted: boolean,
): number {
  if (!permitted) return 403;
  if (party === null) return 404;
  if (!may(transition, party)) return 403;
  return allows(transition, state) ? 200 : 409;
}

const bookingTransitions = BOOKING_VERBS.map((verb) => TRANSITIONS[`booking.${verb}`]);

describe('booking transitions: POST /bookings/{id}/{verb}', () => {
  const cases = bookingTransitions.flatMap((transition) =>
    BOOKING_STATES.flatMap((state) => ACTORS.map((actor) => ({ transition, state, actor }))),
  );
  it.each(cases)('$transition.name from $state by $actor', async ({ transition, state, actor }) => {
    await setState('bookings', bookingId, state);
    await t.app.db.execute(
      sql`update bookings set completed_at = ${t.clock.now().toISOString()}::timestamptz where id = ${bookingId}`,
    );
    const verb = transition.name.split('.')[1];
    const party = actor === 'homeowner' || actor === 'provider' ? actor : null;
    const res = await t.app.inject({
      method: 'POST',
      url: `/bookings/${bookingId}/${verb}`,
      headers: userOf(actor).headers,
      ...(verb === 'cancel' || verb === 'dispute' ? { payload: { reason: 'Because.' } } : {}),
    });
    const status = expected(transition, state, party, true);
    expect(res.statusCode, res.body).toBe(status);
    if (status === 409) expect(res.json().code).toBe('invalid_state');
    expect(await stateOf('bookings', bookingId)).toBe(status === 200 ? transition.to : state);
  });
});

describe('booking.resolve: POST /admin/bookings/{id}/resolve', () => {
  const transition = TRANSITIONS['booking.resolve'];
  const cases = BOOKING_STATES.flatMap((state) => ACTORS.map((actor) => ({ state, actor })));
  it.each(cases)('from $state by $actor', async ({ state, actor }) => {
    await setState('bookings', bookingId, state);
    const res = await t.app.inject({
      method: 'POST',
      url: `/admin/bookings/${bookingId}/resolve`,
      headers: userOf(actor).headers,
      payload: { resolution: 'Settled.' },
    });
    // Only admins hold bookings:manage; the guard refuses everyone else before any lookup.
    const status = expected(transition, state, 'admin', actor === 'admin');
    expect(res.statusCode, res.body).toBe(status);
    expect(await stateOf('bookings', bookingId)).toBe(status === 200 ? transition.to : state);
  });
});

describe('request and quote transitions', () => {
  let requestId: string;
  let quoteId: string;
  beforeAll(async () => {
    requestId = await openRequest(t, owner);
    quoteId = await submitQuote(t, pro, requestId);
  });

  const cancel = TRANSITIONS['request.cancel'];
  it.each(REQUEST_STATES.flatMap((state) => ACTORS.map((actor) => ({ state, actor }))))(
    'request.cancel from $state by $actor',
    async ({ state, actor }) => {
      await setState('job_requests', requestId, state);
      const res = await t.app.inject({
        method: 'POST',
        url: `/homeowners/requests/${requestId}/cancel`,
        headers: userOf(actor).headers,
        payload: {},
      });
      // requests:write: homeowners and admins; only the owner is a party.
      const permitted = actor !== 'provider' && actor !== 'stranger provider';
      const party = actor === 'homeowner' ? 'homeowner' : null;
      const status = expected(cancel, state, party, permitted);
      expect(res.statusCode, res.body).toBe(status);
      expect(await stateOf('job_requests', requestId)).toBe(status === 200 ? cancel.to : state);
    },
  );

  const withdraw = TRANSITIONS['quote.withdraw'];
  it.each(QUOTE_STATES.flatMap((state) => ACTORS.map((actor) => ({ state, actor }))))(
    'quote.withdraw from $state by $actor',
    async ({ state, actor }) => {
      await setState('quotes', quoteId, state);
      const res = await t.app.inject({
        method: 'POST',
        url: `/service-providers/quotes/${quoteId}/withdraw`,
        headers: userOf(actor).headers,
      });
      // quotes:write: providers and admins; only the quote's provider is a party.
      const permitted = actor !== 'homeowner' && actor !== 'stranger homeowner';
      const party = actor === 'provider' ? 'provider' : null;
      const status = expected(withdraw, state, party, permitted);
      expect(res.statusCode, res.body).toBe(status);
      expect(await stateOf('quotes', quoteId)).toBe(status === 200 ? withdraw.to : state);
    },
  );

  const acceptance = TRANSITIONS['quote.accept'];
  it.each(QUOTE_STATES.flatMap((state) => ACTORS.map((actor) => ({ state, actor }))))(
    'quote.accept from $state by $actor',
    async ({ state, actor }) => {
      await setState('job_requests', requestId, 'open');
      await setState('quotes', quoteId, state);
      await t.app.db.execute(sql`delete from bookings where request_id = ${requestId}`);
      const res = await t.app.inject({
        method: 'POST',
        url: `/homeowners/requests/${requestId}/quotes/${quoteId}/accept`,
        headers: userOf(actor).headers,
      });
      const permitted = actor !== 'provider' && actor !== 'stranger provider';
      const party = actor === 'homeowner' ? 'homeowner' : null;
      const status = expected(acceptance, state, party, permitted);
      expect(res.statusCode, res.body).toBe(status === 200 ? 201 : status);
      expect(await stateOf('quotes', quoteId)).toBe(status === 200 ? acceptance.to : state);
    },
  );
});
