import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import {
  bookingsQuery,
  feedQuery,
  homeownerRequestsQuery,
  requestQuotesQuery,
} from '../../src/modules/marketplace/repository.js';
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
 * Each marketplace list reads one index range of its table, newest first, and never scans the
 * table: EXPLAINed from the very builders the routes run, on a marketplace seeded by the
 * bench's own seed (bench/lib/marketplace-seed.ts) at 1/20 of the size: 5,000 requests,
 * 15,000 quotes, 2,500 bookings, with fresh statistics.
 */
const REQUESTS = PLAN_MARKETPLACE.requests;

let t: TestContext;
const seeded = {
  homeownerId: '',
  providerId: '',
  category: '',
  postalCode: '',
  requestId: '',
  deepRequest: '',
  deepBooking: '',
};

const first = (query: ReturnType<typeof sql>) => firstRow(t.app.db as Db, query);

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  const db = t.app.db;
  await seedPlanMarketplace(db as Db);
  for (const table of [
    'users',
    'properties',
    'services',
    'service_areas',
    'job_requests',
    'quotes',
    'bookings',
  ]) {
    await db.execute(sql.raw(`vacuum analyze ${table}`));
  }
  const busiest = await first(sql`
    select homeowner_id, provider_id from bookings
     group by homeowner_id, provider_id order by count(*) desc limit 1`);
  seeded.homeownerId = String(busiest.homeowner_id);
  seeded.providerId = String(busiest.provider_id);
  const area = await first(sql`
    select s.category, a.postal_code from services s join service_areas a on a.service_id = s.id
     where s.provider_id = ${seeded.providerId} limit 1`);
  seeded.category = String(area.category);
  seeded.postalCode = String(area.postal_code);
  seeded.requestId = String(
    (
      await first(
        sql`select request_id from quotes group by request_id order by count(*) desc, request_id limit 1`,
      )
    ).request_id,
  );
  seeded.deepRequest = String(
    (
      await first(
        sql`select id from job_requests where state = 'open' order by id desc offset 1500 limit 1`,
      )
    ).id,
  );
  seeded.deepBooking = String(
    (await first(sql`select id from bookings order by id desc offset 1000 limit 1`)).id,
  );
}, 300_000);
afterAll(() => t?.close());

/**
 * The plan reads `table` through `index` (a name, or a prefix of names), one range of it, and
 * never scans the table. A short range (one homeowner's few rows) may be read as a bitmap and sorted; `sorted: false` also
 * demands the index's order, for the long open feed. (The booking lists page in a subquery: the range is read in index order
 * under its Limit, and only the page's rows are sorted after the joins.)
 */
function expectOneRange(root: PlanNode, table: string, index: string, sorted = true) {
  const all = nodes(root);
  const text = describePlan(root);
  expect(
    all.filter((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === table),
    text,
  ).toEqual([]);
  if (!sorted)
    expect(
      all.map((node) => node['Node Type']),
      text,
    ).not.toContain('Sort');
  // A Bitmap Index Scan names its index, not its table: index names start with the table's.
  const used = all.map((node) => node['Index Name'] ?? '');
  expect(
    used.filter((name) => name.startsWith(index)),
    text,
  ).not.toEqual([]);
}

/**
 * The feed asks "does the provider serve this request's category and postal code" of each open
 * request it reads: one probe of service_areas_provider_idx, not a walk over the provider's
 * services (services_provider_idx then service_areas_service_idx, a hundred probes a row for a
 * provider with a hundred services).
 */
function expectOneProbePerRow(root: PlanNode) {
  const used = nodes(root).map((node) => node['Index Name'] ?? '');
  expect(used, describePlan(root)).toContain('service_areas_provider_idx');
  expect(used, describePlan(root)).not.toContain('services_provider_idx');
}

/**
 * A page of bookings is dressed row by row through primary keys: no table it joins (the request,
 * the property, the two parties) is scanned, whatever its size next to the page's 21 rows.
 */
function expectPageDressedByKey(root: PlanNode) {
  const scanned = nodes(root)
    .filter((node) => node['Node Type'] === 'Seq Scan')
    .map((node) => node['Relation Name']);
  expect(scanned, describePlan(root)).toEqual([]);
}

const plan = (query: object) => explain(t.app.db as Db, query);
const page = { limit: 21 };

describe(`marketplace list plans on ${REQUESTS} requests`, () => {
  it('seeded the proportions of the issue', async () => {
    const counts = await first(sql`
      select (select count(*)::int from job_requests) as requests,
             (select count(*)::int from quotes) as quotes,
             (select count(*)::int from bookings) as bookings`);
    expect(counts.requests).toBe(REQUESTS);
    expect(Number(counts.quotes)).toBeGreaterThan(REQUESTS * 2.9);
    expect(counts.bookings).toBe(REQUESTS / 2);
  });

  it.each([
    ['first page', {}],
    ['deep page', { after: 'deep' }],
  ])("a homeowner's requests (%s): job_requests_homeowner_idx", async (_name, filter) => {
    const after = 'after' in filter ? seeded.deepRequest : undefined;
    const root = await plan(
      homeownerRequestsQuery(t.app.db as Db, seeded.homeownerId, { ...page, after }),
    );
    expectOneRange(root, 'job_requests', 'job_requests_homeowner_idx');
  });

  it('the provider feed with category and postal code: job_requests_feed_idx', async () => {
    const root = await plan(
      feedQuery(t.app.db as Db, seeded.providerId, {
        ...page,
        category: seeded.category as never,
        postalCode: seeded.postalCode,
      }),
    );
    expectOneRange(root, 'job_requests', 'job_requests_feed_idx');
  });

  it.each([
    ['first page', undefined],
    ['deep page', 'deep'],
  ])('the provider feed without filters (%s): job_requests_open_idx', async (_name, deep) => {
    const root = await plan(
      feedQuery(t.app.db as Db, seeded.providerId, {
        ...page,
        after: deep ? seeded.deepRequest : undefined,
      }),
    );
    expectOneRange(root, 'job_requests', 'job_requests_open_idx', false);
    expectOneProbePerRow(root);
  });

  it("every provider's deep feed page walks job_requests_open_idx in order and stops at the page", async () => {
    // The planner weighs the walk against turning the semi-join around (the provider's few areas
    // first, then all of each area's older requests, sorted) by each provider's statistics, so
    // the plan is asserted for every provider, not one.
    const providers = await t.app.db.execute(
      sql`select distinct provider_id from service_areas order by provider_id`,
    );
    const ids = (providers as unknown as { rows: { provider_id: string }[] }).rows.map(
      (row) => row.provider_id,
    );
    expect(ids.length).toBeGreaterThan(50);
    for (const providerId of ids) {
      const root = await plan(
        feedQuery(t.app.db as Db, providerId, { ...page, after: seeded.deepRequest }),
      );
      expectOneRange(root, 'job_requests', 'job_requests_open_idx', false);
      expectOneProbePerRow(root);
    }
  });

  it("a request's quotes: quotes_request_idx", async () => {
    const root = await plan(requestQuotesQuery(t.app.db as Db, seeded.requestId, page));
    expectOneRange(root, 'quotes', 'quotes_request_idx');
  });

  it.each([
    // Without a state, either index of the party is one range of that party's rows.
    ['homeowner', undefined, 'bookings_homeowner_'],
    ['homeowner', 'completed', 'bookings_homeowner_state_idx'],
    ['provider', undefined, 'bookings_provider_'],
    ['provider', 'scheduled', 'bookings_provider_state_idx'],
  ] as const)("a %s's bookings (state %s): %s", async (side, state, index) => {
    const party =
      side === 'homeowner'
        ? { homeownerId: seeded.homeownerId }
        : { providerId: seeded.providerId };
    const root = await plan(bookingsQuery(t.app.db as Db, { ...page, party, state }));
    expectOneRange(root, 'bookings', index);
    expectPageDressedByKey(root);
  });

  it('every booking for an admin, by state, deep: bookings_state_idx', async () => {
    const root = await plan(
      bookingsQuery(t.app.db as Db, { ...page, state: 'confirmed', after: seeded.deepBooking }),
    );
    expectOneRange(root, 'bookings', 'bookings_state_idx');
  });

  it('the builders run: the feed pages through what the provider serves', async () => {
    const rows = await feedQuery(t.app.db as Db, seeded.providerId, page);
    expect(rows.length).toBeGreaterThan(0);
  });
});
