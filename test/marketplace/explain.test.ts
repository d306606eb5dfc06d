import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookingsQuery,
  feedQuery,
  homeownerRequestsQuery,
  requestQuotesQuery,
} from '../../src/modules/marketplace/repository.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { describePlan, explain, nodes, type PlanNode, type Rows } from '../helpers/plans.js';

/**
 * Each marketplace list reads one index range. The plans are EXPLAINed from the very query
 * builders the routes run, on a few thousand seeded requests, quotes and bookings with fresh
 * statistics (the issue-scale seeding and the bench are bench/'s).
 */
const PEOPLE = 40;
const REQUESTS = 6000;
const QUOTES = 12000;
const BOOKINGS = 1500;

let t: TestContext;
let homeownerId: string;
let providerId: string;
let requestId: string;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  const db = t.app.db;
  await db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    select gen_random_uuid(), 'mk-' || g || '@example.com', 'Person ' || g, 'x', true
      from generate_series(1, ${PEOPLE * 2}) g`);
  // Providers' services: 13 categories over 300 postal codes, two codes each.
  await db.execute(sql`
    with p as (select array_agg(id order by email) as ids from users where email like 'mk-%')
    insert into services (id, provider_id, title, description, category, pricing_model, postal_codes)
    select gen_random_uuid(), p.ids[${PEOPLE} + 1 + g % ${PEOPLE}], 'Service ' || g, 'Work',
           (array['plumbing','electrical','hvac','roofing','cleaning','landscaping','painting',
                  'carpentry','pest_control','appliance_repair','handyman','moving','other'])[1 + g % 13],
           'quote', array[lpad((g % 300)::text, 5, '0'), lpad(((g * 7) % 300)::text, 5, '0')]
      from p, generate_series(1, ${PEOPLE * 5}) g`);
  // Requests (uuid v7-like: time-ordered ids), four in five open.
  await db.execute(sql`
    with p as (select array_agg(id order by email) as ids from users where email like 'mk-%')
    insert into job_requests (id, homeowner_id, category, postal_code, city, title, description,
                              earliest_date, latest_date, state, expires_at)
    select uuid_in(overlay(overlay(md5(g::text) placing lpad(to_hex(g), 12, '0') from 1 for 12)
                   placing '7' from 13)::cstring),
           -- Skewed like a real marketplace: one busy homeowner opens half of the requests.
           p.ids[case when g % 2 = 0 then 1 else 1 + g % ${PEOPLE} end],
           (array['plumbing','electrical','hvac','roofing','cleaning','landscaping','painting',
                  'carpentry','pest_control','appliance_repair','handyman','moving','other'])[1 + g % 13],
           lpad((g % 300)::text, 5, '0'), 'Springfield', 'Job ' || g, 'Details',
           date '2030-01-01', date '2030-01-10',
           case when g % 5 = 0 then 'cancelled' else 'open' end, now() + interval '14 days'
      from p, generate_series(1, ${REQUESTS}) g`);
  await db.execute(sql`
    with p as (select array_agg(id order by email) as ids from users where email like 'mk-%'),
         r as (select array_agg(id order by id) as ids from job_requests)
    insert into quotes (id, request_id, provider_id, price_cents, currency, message, valid_until,
                        proposed_start, state)
    select gen_random_uuid(), r.ids[1 + g % ${REQUESTS}],
           p.ids[${PEOPLE} + 1 + case when g % 2 = 0 then 0 else g % ${PEOPLE} end],
           1000 + g, 'USD', 'Quote', now() + interval '5 days', now() + interval '4 days',
           case when g % 3 = 0 then 'live' else 'declined' end
      from p, r, generate_series(1, ${QUOTES}) g
    on conflict do nothing`);
  await db.execute(sql`
    insert into bookings (id, request_id, quote_id, homeowner_id, provider_id, price_cents,
                          currency, proposed_start, state)
    select gen_random_uuid(), q.request_id, q.id, r.homeowner_id, q.provider_id, q.price_cents,
           'USD', q.proposed_start,
           (array['scheduled','in_progress','completed','confirmed','cancelled'])[1 + row_number() over () % 5]
      from (select distinct on (request_id) * from quotes order by request_id, id) q
      join job_requests r on r.id = q.request_id
     limit ${BOOKINGS}`);
  for (const table of [
    'users',
    'services',
    'service_areas',
    'job_requests',
    'quotes',
    'bookings',
  ]) {
    await db.execute(sql.raw(`vacuum analyze ${table}`));
  }
  const one = async (query: ReturnType<typeof sql>) =>
    ((await db.execute(query)) as unknown as Rows).rows[0] as Record<string, string>;
  // The busiest parties: a page is a small part of their rows, as for anyone at scale.
  homeownerId = (
    await one(
      sql`select homeowner_id as id from bookings group by homeowner_id order by count(*) desc limit 1`,
    )
  ).id!;
  providerId = (
    await one(
      sql`select provider_id as id from bookings group by provider_id order by count(*) desc limit 1`,
    )
  ).id!;
  requestId = (
    await one(
      sql`select request_id as id from quotes group by request_id order by count(*) desc limit 1`,
    )
  ).id!;
});
afterAll(() => t?.close());

const plan = (query: object) => explain(t.app.db, query);

/** Every path from the root to a node, root first. */
const paths = (root: PlanNode, above: PlanNode[] = []): PlanNode[][] => [
  [...above, root],
  ...(root.Plans ?? []).flatMap((child) => paths(child, [...above, root])),
];

/**
 * The driving read is one range of `index` under a Limit, with no Sort between them (the page
 * comes out of the index in order), and `table` is never read whole. Joins and a sort of the
 * page's own rows may sit above that Limit.
 */
function expectIndexRange(root: PlanNode, table: string, index: string) {
  const text = describePlan(root);
  expect(
    nodes(root).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === table),
    text,
  ).toEqual([]);
  const ranges = paths(root).filter((path) => {
    const scan = path.at(-1)!;
    if (!['Index Scan', 'Index Only Scan'].includes(scan['Node Type'])) return false;
    if (scan['Index Name'] !== index) return false;
    const limit = path.findLastIndex((n) => n['Node Type'] === 'Limit');
    return limit >= 0 && !path.slice(limit).some((n) => n['Node Type'].includes('Sort'));
  });
  expect(ranges.length, text).toBe(1);
}

describe('marketplace lists read one index range', () => {
  it('a homeowner’s requests: job_requests_homeowner_idx', async () => {
    expectIndexRange(
      await plan(homeownerRequestsQuery(t.app.db, homeownerId, { limit: 21 })),
      'job_requests',
      'job_requests_homeowner_idx',
    );
  });

  it('the quotes on a request: quotes_request_idx', async () => {
    expectIndexRange(
      await plan(requestQuotesQuery(t.app.db, requestId, { limit: 21 })),
      'quotes',
      'quotes_request_idx',
    );
  });

  /**
   * The feed's statement holds two reads of the page's ids (area by area, or the open requests
   * walked), runs one, then reads the page's rows by primary key: every read of job_requests is
   * an index read, never the table (test/marketplace/lists.explain.test.ts asserts which one runs).
   */
  function expectFeedReads(root: PlanNode, indexes: string[]) {
    const text = describePlan(root);
    const reads = nodes(root).filter((n) => n['Relation Name'] === 'job_requests');
    expect(reads.length, text).toBeGreaterThan(0);
    for (const read of reads) {
      expect(['Index Scan', 'Index Only Scan'], text).toContain(read['Node Type']);
      expect([...indexes, 'job_requests_pkey'], text).toContain(read['Index Name']);
    }
  }

  it('the provider feed filtered by category and postal code: job_requests_feed_idx', async () => {
    expectFeedReads(
      await plan(
        feedQuery(t.app.db, providerId, { limit: 21, category: 'plumbing', postalCode: '00013' }),
      ),
      ['job_requests_feed_idx'],
    );
  });

  it('the unfiltered provider feed: index ranges of job_requests only, never the whole table', async () => {
    expectFeedReads(await plan(feedQuery(t.app.db, providerId, { limit: 21 })), [
      'job_requests_open_idx',
      'job_requests_feed_idx',
    ]);
  });

  for (const [side, index] of [
    ['homeowner', 'bookings_homeowner'],
    ['provider', 'bookings_provider'],
  ] as const) {
    it(`a ${side}’s bookings: ${index}_idx, and ${index}_state_idx with a state`, async () => {
      const party = side === 'homeowner' ? { homeownerId } : { providerId };
      expectIndexRange(
        await plan(bookingsQuery(t.app.db, { limit: 21, party })),
        'bookings',
        `${index}_idx`,
      );
      expectIndexRange(
        await plan(bookingsQuery(t.app.db, { limit: 21, party, state: 'completed' })),
        'bookings',
        `${index}_state_idx`,
      );
    });
  }

  it('the seeded data pages through the feed route', async () => {
    expect(
      (
        (await t.app.db.execute(
          sql`select count(*)::int as n from job_requests`,
        )) as unknown as Rows
      ).rows[0]?.n,
    ).toBe(REQUESTS);
  });
});
