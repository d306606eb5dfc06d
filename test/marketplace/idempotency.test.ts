import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';
import type { TestUser } from '../helpers/users.js';
import {
  booked,
  homeowner,
  openRequest,
  provider,
  quoteInput,
  requestInput,
  submitQuote,
} from './support.js';

/**
 * Every creating POST of the marketplace honours Idempotency-Key (API.md): a retry with the key
 * gets the first answer and changes nothing; the key with another body is 422. The mechanism
 * itself is tested in test/idempotency/; here, that each route declares it and that a replay
 * leaves the database (rows, audit events, mails) as the first request left it.
 */
const t = await createTestApp({ noSmtp: true });
afterAll(() => t.close());

type Rows = { rows: Array<Record<string, unknown>> };
const count = async (query: ReturnType<typeof sql>) =>
  Number(((await t.app.db.execute(query)) as unknown as Rows).rows[0]?.n);
const auditCount = () => count(sql`select count(*)::int as n from audit_events`);
const mailCount = () => count(sql`select count(*)::int as n from mail_outbox`);

let keys = 0;
const newKey = () => `mk-${Date.now()}-${++keys}`;

function post(user: TestUser, url: string, key: string, payload?: object) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { ...user.headers, 'idempotency-key': key },
    ...(payload && { payload }),
  });
}

/** Sends the request twice with one key: the second is the first answer, and nothing changed. */
async function expectReplay(user: TestUser, url: string, payload?: object) {
  const key = newKey();
  const first = await post(user, url, key, payload);
  expect(first.statusCode, first.body).toBeLessThan(300);
  const audit = await auditCount();
  const mails = await mailCount();
  const replay = await post(user, url, key, payload);
  expect(replay.statusCode).toBe(first.statusCode);
  expect(replay.body).toBe(first.body);
  expect(replay.headers.location).toBe(first.headers.location);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(await auditCount()).toBe(audit);
  expect(await mailCount()).toBe(mails);
  return { key, first };
}

describe('Idempotency-Key on the marketplace', () => {
  it('opening a request: a replay is the same request; another body with the key is 422', async () => {
    const owner = await homeowner(t);
    const payload = requestInput(t, owner);
    const { key, first } = await expectReplay(owner, '/homeowners/requests', payload);
    expect(first.statusCode).toBe(201);
    expect(
      await count(
        sql`select count(*)::int as n from job_requests where homeowner_id = ${owner.id}`,
      ),
    ).toBe(1);
    const other = await post(owner, '/homeowners/requests', key, { ...payload, title: 'Another' });
    expectProblem(other, 422, 'idempotency_key_reused');
  });

  it('quoting, withdrawing and cancelling a request', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    const { first } = await expectReplay(
      pro,
      `/service-providers/requests/${requestId}/quotes`,
      quoteInput(t, pro),
    );
    // A replay is not a revision: still the one quote, live.
    const quotes = await count(
      sql`select count(*)::int as n from quotes where request_id = ${requestId}`,
    );
    expect(quotes).toBe(1);
    await expectReplay(pro, `/service-providers/quotes/${first.json().id}/withdraw`);
    await expectReplay(owner, `/homeowners/requests/${requestId}/cancel`, {
      reason: 'Fixed it myself.',
    });
  });

  it('accepting a quote: the replay is the same booking, and the other provider is mailed once', async () => {
    const owner = await homeowner(t);
    const alice = await provider(t);
    const bob = await provider(t);
    const requestId = await openRequest(t, owner);
    const quoteId = await submitQuote(t, alice, requestId);
    await submitQuote(t, bob, requestId);
    const { first } = await expectReplay(
      owner,
      `/homeowners/requests/${requestId}/quotes/${quoteId}/accept`,
    );
    expect(first.statusCode).toBe(201);
    expect(first.headers.location).toBe(`/bookings/${first.json().id}`);
    expect(
      await count(sql`select count(*)::int as n from bookings where request_id = ${requestId}`),
    ).toBe(1);
  });

  it('20 concurrent accepts with one key: one booking, every answer the first or 409 in use', async () => {
    const owner = await homeowner(t);
    const pro = await provider(t);
    const requestId = await openRequest(t, owner);
    const quoteId = await submitQuote(t, pro, requestId);
    const key = newKey();
    const url = `/homeowners/requests/${requestId}/quotes/${quoteId}/accept`;
    const all = await Promise.all(Array.from({ length: 20 }, () => post(owner, url, key)));
    const created = all.filter((res) => res.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const res of created) expect(res.body).toBe(created[0]?.body);
    for (const res of all.filter((r) => r.statusCode !== 201)) {
      expectProblem(res, 409, 'idempotency_key_in_use');
    }
    expect(
      await count(sql`select count(*)::int as n from bookings where request_id = ${requestId}`),
    ).toBe(1);
    const retry = await post(owner, url, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.body).toBe(created[0]?.body);
  });

  it('booking transitions: a retried start is the first answer, not 409 invalid_state', async () => {
    const { owner, pro, bookingId } = await booked(t);
    await expectReplay(pro, `/bookings/${bookingId}/start`);
    // Without a key the same transition again is refused by the state machine.
    const again = await t.app.inject({
      method: 'POST',
      url: `/bookings/${bookingId}/start`,
      headers: pro.headers,
    });
    expectProblem(again, 409, 'invalid_state');
    await expectReplay(pro, `/bookings/${bookingId}/complete`);
    const { key } = await expectReplay(owner, `/bookings/${bookingId}/dispute`, {
      reason: 'The tap still drips.',
    });
    expectProblem(
      await post(owner, `/bookings/${bookingId}/dispute`, key, { reason: 'Another reason.' }),
      422,
      'idempotency_key_reused',
    );
  });

  it('every POST of the marketplace declares the Idempotency-Key parameter', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const marketplacePosts = Object.entries<
      Record<string, { tags?: string[]; parameters?: unknown[] }>
    >(document.paths).flatMap(([path, item]) =>
      item.post &&
      (/^\/(homeowners\/requests|service-providers\/(requests|quotes)|bookings)\b/.test(path) ||
        path === '/admin/bookings/{id}/resolve')
        ? [{ path, parameters: item.post.parameters ?? [] }]
        : [],
    );
    expect(marketplacePosts.length).toBeGreaterThanOrEqual(10);
    for (const { path, parameters } of marketplacePosts) {
      expect(parameters, path).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    }
  });
});
