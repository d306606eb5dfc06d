import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres } from '../helpers/databases.js';
import { accept, booked, homeowner, move, openRequest, provider, submitQuote } from './support.js';

type Rows = { rows: Array<Record<string, unknown>> };
const count = async (t: TestContext, query: ReturnType<typeof sql>) =>
  Number(((await t.app.db.execute(query)) as unknown as Rows).rows[0]?.n);

describe('20 concurrent accepts on one request', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true });
  });
  afterAll(() => t?.close());

  it('make exactly one booking; the others are request_closed', async () => {
    const owner = await homeowner(t);
    const requestId = await openRequest(t, owner);
    // Two tabs, four quotes: every accept races every other.
    const quoteIds: string[] = [];
    for (let i = 0; i < 4; i++) quoteIds.push(await submitQuote(t, await provider(t), requestId));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => accept(t, owner, requestId, quoteIds[i % 4]!)),
    );
    const winners = answers.filter((res) => res.statusCode === 201);
    const losers = answers.filter((res) => res.statusCode !== 201);
    const why = losers.map((res) => `${res.statusCode} ${res.body.slice(0, 200)}`).join('\n');
    expect(winners, why).toHaveLength(1);
    // A loser waits for the winner's row lock and is told the request is closed, or, when the
    // pool had no connection for it in time (a loaded machine), 503 with Retry-After: never a
    // second booking, never a 500.
    for (const res of losers) {
      expect([409, 503], why).toContain(res.statusCode);
      const code = res.statusCode === 409 ? 'request_closed' : 'service_unavailable';
      expect(res.json().code, why).toBe(code);
    }
    expect(losers.filter((res) => res.statusCode === 409).length, why).toBeGreaterThan(0);
    expect(
      await count(t, sql`select count(*)::int as n from bookings where request_id = ${requestId}`),
    ).toBe(1);
    expect(
      await count(
        t,
        sql`select count(*)::int as n from quotes where request_id = ${requestId} and state = 'accepted'`,
      ),
    ).toBe(1);
    expect(
      await count(
        t,
        sql`select count(*)::int as n from quotes where request_id = ${requestId} and state = 'declined'`,
      ),
    ).toBe(3);
  });
});

/** Two instances on one PostgreSQL run each timer once. */
describe.skipIf(!onPostgres)('two instances, one database (PostgreSQL only)', () => {
  let a: TestContext;
  let b: TestContext;
  beforeAll(async () => {
    a = await createTestApp({ noSmtp: true });
    b = await createTestApp({ noSmtp: true, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('auto-confirm each of 8 completed bookings exactly once between them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { pro, bookingId } = await booked(a);
      await move(a, pro, bookingId, 'start');
      await move(a, pro, bookingId, 'complete');
      ids.push(bookingId);
    }
    await Promise.all([a.app.jobs.runDue(), b.app.jobs.runDue()]);
    a.clock.advance(7 * 86_400);
    b.clock.advance(7 * 86_400);
    await Promise.all([a.app.jobs.runDue(), b.app.jobs.runDue()]);
    for (const id of ids) {
      expect(
        await count(
          a,
          sql`select count(*)::int as n from audit_events where type = 'booking.autoconfirm' and subject_id = ${id}`,
        ),
      ).toBe(1);
    }
    expect(
      await count(
        a,
        sql`select count(*)::int as n from bookings where id in ${sql.raw(`('${ids.join("','")}')`)} and state = 'confirmed'`,
      ),
    ).toBe(8);
    expect(
      await count(
        a,
        sql`select count(*)::int as n from jobs where name = 'marketplace.booking.autoconfirm' and state = 'done' and attempts = 1`,
      ),
    ).toBe(8);
  }, 120_000);
});
