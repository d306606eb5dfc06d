import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import {
  accept,
  homeowner,
  move,
  openRequest,
  POSTAL_CODE,
  provider,
  submitQuote,
} from './support.js';

const t = await createTestApp();
afterAll(() => t.close());

type Rows = { rows: Array<Record<string, unknown>> };
const rows = async (query: ReturnType<typeof sql>) =>
  ((await t.app.db.execute(query)) as unknown as Rows).rows;

describe('a homeowner and two providers, from request to confirmed booking', () => {
  it('runs over HTTP with a real mail at each step', async () => {
    const owner = await homeowner(t);
    const alice = await provider(t);
    const bob = await provider(t);

    const requestId = await openRequest(t, owner);

    // Both providers see it in their feed: postal code and city, never the street or the owner.
    for (const pro of [alice, bob]) {
      const feed = await t.app.inject({
        method: 'GET',
        url: `/service-providers/requests?category=plumbing&postalCode=${POSTAL_CODE}`,
        headers: pro.headers,
      });
      expect(feed.statusCode).toBe(200);
      const [item] = feed.json().items;
      expect(item).toMatchObject({ id: requestId, postalCode: POSTAL_CODE, city: 'Springfield' });
      expect(JSON.stringify(item)).not.toMatch(/Main Street|homeowner|@/);
    }

    const aliceQuote = await submitQuote(t, alice, requestId, { priceCents: 15000 });
    expect((await t.mailbox.next(owner.email)).subject).toBe('New quote on your job request');
    const bobQuote = await submitQuote(t, bob, requestId, { priceCents: 19000 });
    expect((await t.mailbox.next(owner.email)).subject).toBe('New quote on your job request');

    // Quoted: no longer in that provider's feed.
    const feed = await t.app.inject({
      method: 'GET',
      url: '/service-providers/requests',
      headers: alice.headers,
    });
    expect(feed.json().items.map((r: { id: string }) => r.id)).not.toContain(requestId);

    const quotes = await t.app.inject({
      method: 'GET',
      url: `/homeowners/requests/${requestId}/quotes`,
      headers: owner.headers,
    });
    expect(quotes.statusCode).toBe(200);
    expect(quotes.json().items.map((q: { id: string }) => q.id)).toEqual([bobQuote, aliceQuote]);
    expect(quotes.json().items[1]).toMatchObject({
      state: 'live',
      provider: { id: alice.id, fullName: 'Test User' },
      service: { id: alice.serviceId, title: 'Plumbing repairs' },
    });

    const booked = await accept(t, owner, requestId, aliceQuote);
    expect(booked.statusCode).toBe(201);
    const booking = booked.json();
    expect(booked.headers.location).toBe(`/bookings/${booking.id}`);
    expect(booking).toMatchObject({
      state: 'scheduled',
      priceCents: 15000,
      address: { addressLine1: '1 Main Street', postalCode: POSTAL_CODE },
      homeowner: { id: owner.id, email: owner.email },
      provider: { id: alice.id, email: alice.email },
    });
    expect((await t.mailbox.next(alice.email)).subject).toBe('Your quote was accepted');
    expect((await t.mailbox.next(bob.email)).subject).toBe('Your quote was not accepted');

    // In the same transaction: the request booked, the other quote declined.
    const [request] = await rows(sql`select state from job_requests where id = ${requestId}`);
    expect(request?.state).toBe('booked');
    const states = await rows(sql`select id, state from quotes where request_id = ${requestId}`);
    expect(Object.fromEntries(states.map((q) => [q.id, q.state]))).toEqual({
      [aliceQuote]: 'accepted',
      [bobQuote]: 'declined',
    });

    // Now the provider sees the address; the other provider does not see the booking at all.
    const seen = await t.app.inject({
      method: 'GET',
      url: `/bookings/${booking.id}`,
      headers: alice.headers,
    });
    expect(seen.json().address.addressLine1).toBe('1 Main Street');
    const stranger = await t.app.inject({
      method: 'GET',
      url: `/bookings/${booking.id}`,
      headers: bob.headers,
    });
    expect(stranger.statusCode).toBe(404);

    expect((await move(t, alice, booking.id, 'start')).json().state).toBe('in_progress');
    expect((await t.mailbox.next(owner.email)).subject).toBe('Work has started');
    const completed = (await move(t, alice, booking.id, 'complete')).json();
    expect(completed.state).toBe('completed');
    expect(completed.completedAt).toBe(t.clock.now().toISOString());
    expect((await t.mailbox.next(owner.email)).subject).toBe('The job is complete');
    expect((await move(t, owner, booking.id, 'confirm')).json().state).toBe('confirmed');
    expect((await t.mailbox.next(alice.email)).subject).toBe('The job was confirmed');

    // Each transition left an audit event.
    const audit = await rows(
      sql`select type from audit_events where type like 'booking.%' or type like 'quote.%' or type like 'request.%' order by id`,
    );
    expect(audit.map((row) => row.type)).toEqual([
      'request.open',
      'quote.submit',
      'quote.submit',
      'quote.accept',
      'request.book',
      'quote.decline',
      'booking.create',
      'booking.start',
      'booking.complete',
      'booking.confirm',
    ]);

    // The lists.
    for (const [user, url] of [
      [owner, '/homeowners/bookings?state=confirmed'],
      [alice, '/service-providers/bookings'],
    ] as const) {
      const list = await t.app.inject({ method: 'GET', url, headers: user.headers });
      expect(list.json().items.map((b: { id: string }) => b.id)).toEqual([booking.id]);
    }
    const none = await t.app.inject({
      method: 'GET',
      url: '/service-providers/bookings',
      headers: bob.headers,
    });
    expect(none.json().items).toEqual([]);
  });
});
