import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { memberThreadsQuery, threadMessagesQuery } from '../../src/modules/messages/repository.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import {
  describePlan,
  explain,
  firstRow,
  nodes,
  PLAN_MARKETPLACE,
  type PlanNode,
  seedPlanMarketplace,
} from '../helpers/plans.js';

/**
 * The two thread lists read one index range each, in the index's order (no sort, no scan of the
 * table), EXPLAINed from the builders the routes run. Seeded with the marketplace bench's seed at
 * 5,000 requests (about 15,000 quotes): a thread per quoting provider and request, three
 * messages in each, and one long thread of 3,000, with fresh statistics.
 */
const REQUESTS = PLAN_MARKETPLACE.requests;
const LONG = 3_000;
/** A busy provider: in this many threads on top of the seeded ones. */
const BUSY = 3_000;
/** Accounts that take no part, so that the users table is not a toy. */
const OTHERS = 20_000;

let t: TestContext;
const seeded = {
  userId: '',
  deep: { lastActivityAt: new Date(), id: '' },
  longThread: '',
  deepMessage: '',
};

const first = (query: ReturnType<typeof sql>) => firstRow(t.app.db as Db, query);

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  const db = t.app.db;
  await seedPlanMarketplace(db as Db);
  await db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    values (gen_random_uuid(), 'plan-busy-1@example.com', 'Busy', 'x', true)`);
  await db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    select gen_random_uuid(), 'plan-other-' || g || '@example.com', 'Other ' || g, 'x', true
      from generate_series(1, ${OTHERS}) g`);
  // A thread per request and quoting provider, as the first quote opens it.
  await db.execute(sql`
    insert into message_threads (id, request_id, homeowner_id, provider_id, last_activity_at, created_at)
    select gen_random_uuid(), q.request_id, r.homeowner_id, q.provider_id,
           q.created_at + (q.price_cents % 3600) * interval '1 second', q.created_at
      from (select distinct on (request_id, provider_id) request_id, provider_id, created_at, price_cents
              from quotes order by request_id, provider_id, id) q
      join job_requests r on r.id = q.request_id
     where r.homeowner_id is not null and q.provider_id is not null`);
  // The busy provider: one more thread on each of BUSY requests.
  await db.execute(sql`
    insert into message_threads (id, request_id, homeowner_id, provider_id, last_activity_at, created_at)
    select gen_random_uuid(), r.id, r.homeowner_id,
           (select id from users where email = 'plan-busy-1@example.com'),
           r.created_at + interval '1 hour', r.created_at
      from (select id, homeowner_id, created_at from job_requests
             where homeowner_id is not null order by id limit ${BUSY}) r`);
  await db.execute(sql`
    insert into thread_members (thread_id, user_id, role, last_activity_at, unread_count)
    select id, homeowner_id, 'homeowner', last_activity_at, 1 from message_threads
    union all
    select id, provider_id, 'provider', last_activity_at, 2 from message_threads`);
  // Time-ordered ids as the app writes them (UUID v7: 48 bits of milliseconds first).
  await db.execute(sql`
    with th as (select id, homeowner_id, provider_id, row_number() over (order by id) as n
                  from message_threads)
    insert into messages (id, thread_id, sender_id, body, created_at)
    select (lpad(to_hex(1700000000000 + th.n * 10 + g), 12, '0') || '7000' || '8' ||
            lpad(to_hex(th.n * 10 + g), 15, '0'))::uuid,
           th.id, case when g % 2 = 0 then th.homeowner_id else th.provider_id end,
           'Message ' || g, now()
      from th, generate_series(1, 3) g`);
  const long = await first(sql`select id from message_threads order by id limit 1`);
  seeded.longThread = String(long.id);
  await db.execute(sql`
    insert into messages (id, thread_id, sender_id, body, created_at)
    select (lpad(to_hex(1800000000000 + g), 12, '0') || '7000' || '8' || lpad(to_hex(g), 15, '0'))::uuid,
           t.id, t.homeowner_id, 'Long ' || g, now()
      from message_threads t, generate_series(1, ${LONG}) g where t.id = ${seeded.longThread}`);
  for (const table of [
    'users',
    'job_requests',
    'quotes',
    'bookings',
    'message_threads',
    'thread_members',
    'messages',
  ]) {
    await db.execute(sql.raw(`vacuum analyze ${table}`));
  }
  const busiest = await first(sql`
    select user_id from thread_members group by user_id order by count(*) desc limit 1`);
  seeded.userId = String(busiest.user_id);
  const deep = await first(sql`
    select last_activity_at, thread_id from thread_members where user_id = ${seeded.userId}
     order by last_activity_at desc, thread_id desc offset 100 limit 1`);
  seeded.deep = {
    lastActivityAt: new Date(String(deep.last_activity_at)),
    id: String(deep.thread_id),
  };
  seeded.deepMessage = String(
    (
      await first(
        sql`select id from messages where thread_id = ${seeded.longThread} order by id desc offset 1500 limit 1`,
      )
    ).id,
  );
}, 300_000);
afterAll(() => t?.close());

const plan = (query: object) => explain(t.app.db as Db, query);

/**
 * One range of `index`, read in its order under a Limit (no sort below it), no sequential scan,
 * no bitmap; every other table is reached by a key lookup per row (`lookups`). The thread list
 * sorts the page's 21 rows after its joins: a Sort above the Limit is allowed.
 */
function expectOneRange(root: PlanNode, index: string, lookups: string[]) {
  const all = nodes(root);
  const text = describePlan(root);
  const kinds = all.map((node) => node['Node Type']);
  expect(kinds, text).not.toContain('Seq Scan');
  expect(kinds, text).not.toContain('Bitmap Heap Scan');
  const limits = all.filter((node) => node['Node Type'] === 'Limit');
  expect(limits.length, text).toBeGreaterThan(0);
  for (const limit of limits) {
    expect(
      nodes(limit).map((node) => node['Node Type']),
      text,
    ).not.toContain('Sort');
  }
  const used = all.map((node) => node['Index Name']).filter(Boolean);
  expect(
    used.filter((name) => name === index),
    text,
  ).toHaveLength(1);
  expect(
    used.filter((name) => name !== index && !lookups.includes(name as string)),
    text,
  ).toEqual([]);
}

const LOOKUPS = ['message_threads_pkey', 'job_requests_pkey', 'users_pkey', 'bookings_request_key'];

describe(`thread list plans on ${REQUESTS} requests`, () => {
  it('seeded threads, members and messages', async () => {
    const counts = await first(sql`
      select (select count(*)::int from message_threads) as threads,
             (select count(*)::int from thread_members where user_id = ${seeded.userId}) as mine,
             (select count(*)::int from messages) as messages`);
    expect(Number(counts.threads)).toBeGreaterThan(REQUESTS * 2);
    expect(Number(counts.mine)).toBe(BUSY);
    expect(Number(counts.messages)).toBeGreaterThan(REQUESTS * 6 + LONG);
  });

  it.each([
    ['first page', false],
    ['deep page', true],
  ])('my threads (%s): one range of thread_members_list_idx', async (_name, deep) => {
    const root = await plan(
      memberThreadsQuery(t.app.db as Db, seeded.userId, {
        limit: 21,
        after: deep ? seeded.deep : undefined,
      }),
    );
    expectOneRange(root, 'thread_members_list_idx', LOOKUPS);
  });

  it.each([
    ['first page', false],
    ['deep page', true],
  ])('a thread’s messages (%s): one range of messages_thread_idx', async (_name, deep) => {
    const root = await plan(
      threadMessagesQuery(t.app.db as Db, seeded.longThread, {
        limit: 21,
        after: deep ? seeded.deepMessage : undefined,
      }),
    );
    expectOneRange(root, 'messages_thread_idx', ['users_pkey']);
  });

  it('the deep pages return what the first page continues into', async () => {
    const page = await memberThreadsQuery(t.app.db as Db, seeded.userId, {
      limit: 3,
      after: seeded.deep,
    });
    expect(page).toHaveLength(3);
    for (const row of page) {
      expect(
        row.lastActivityAt < seeded.deep.lastActivityAt ||
          (row.lastActivityAt.getTime() === seeded.deep.lastActivityAt.getTime() &&
            row.id < seeded.deep.id),
      ).toBe(true);
    }
  });
});
