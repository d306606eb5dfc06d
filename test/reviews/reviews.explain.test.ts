import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { reviewsAboutQuery, reviewsByQuery } from '../../src/modules/reviews/repository.js';
import { type CatalogFilter, catalogQuery } from '../../src/modules/services/catalog.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import {
  describePlan,
  firstRow,
  nodes,
  type PlanNode,
  planOf,
  type Rows,
} from '../helpers/plans.js';

/**
 * The catalog's sorts and minRating, and the review lists, read index ranges: EXPLAINed from the
 * very builders the routes run, on 100,000 seeded services of 2,000 providers (a third of them
 * rated, spread over the whole scale) and 30,000 reviews (one in fifty of them about one busy
 * provider, one in fifty by them), with fresh statistics.
 */
const PROVIDERS = 2_000;
const SERVICES = 100_000;
const REVIEWS = 30_000;

let t: TestContext;
const seeded = { providerId: '', deepId: '', deepBayes: 0, deepPriceId: '', deepPrice: 0 };

const first = (query: ReturnType<typeof sql>) => firstRow(t.app.db as Db, query);

beforeAll(async () => {
  // Seeding 100,000 services (and their area rows and index entries) outlasts the default
  // statement timeout on a busy machine.
  t = await createTestApp({ noSmtp: true, env: { DB_STATEMENT_TIMEOUT_MS: '600000' } });
  const db = t.app.db;
  await db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    select gen_random_uuid(), 'rated-' || g || '@example.com', 'Provider ' || g, 'x', true
      from generate_series(1, ${PROVIDERS}) g`);
  // A third of the providers rated: count 1..200, average 1.0..5.0, Bayesian with prior 3.5 × 5.
  await db.execute(sql`
    with p as (select id, row_number() over (order by id) as n from users where email like 'rated-%')
    insert into provider_ratings (provider_id, count, sum, average, bayesian)
    select id, c, round(c * a)::int, round(c * a)::float8 / c, (17.5 + round(c * a)) / (5 + c)
      from p, lateral (select 1 + (n * 37) % 200 as c, 1 + ((n * 13) % 401) / 100.0 as a) v
     where n % 3 = 0`);
  await db.execute(sql`
    with p as (
      select array_agg(u.id order by u.id) as ids from users u where u.email like 'rated-%'
    )
    insert into services (id, provider_id, title, description, category, pricing_model,
                          price_cents, postal_codes, is_active)
    select gen_random_uuid(), p.ids[1 + g % ${PROVIDERS}], 'Service ' || g, 'tidy work',
           (array['plumbing','electrical','hvac','roofing','cleaning','landscaping','painting',
                  'carpentry','pest_control','appliance_repair','handyman','moving','other'])[1 + g % 13],
           case when g % 7 = 0 then 'quote' else 'fixed' end,
           case when g % 7 = 0 then null else 1000 + (g * 7919) % 100000 end,
           array[lpad((g % 400)::text, 5, '0')],
           g % 10 <> 0
      from p, generate_series(1, ${SERVICES}) g`);
  // The rating copy the reviews module keeps (setProviderRating), in one statement.
  await db.execute(sql`
    update services s set rating_bayes = r.bayesian, rating_count = r.count, rating_average = r.average
      from provider_ratings r where r.provider_id = s.provider_id`);
  // Reviews need bookings only through their foreign key: seeded past it, as a bulk load would.
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql`
      with p as (select array_agg(id order by id) as ids from users where email like 'rated-%')
      insert into reviews (id, booking_id, author_role, author_id, subject_id, rating, text,
                           published_at, hidden_at, created_at)
      select gen_random_uuid(), gen_random_uuid(),
             case when g % 2 = 0 then 'homeowner' else 'provider' end,
             case when g % 50 = 1 then p.ids[1] else p.ids[1 + (g * 31) % ${PROVIDERS}] end,
             case when g % 50 = 0 then p.ids[1] else p.ids[1 + g % ${PROVIDERS}] end,
             1 + g % 5, 'ok',
             case when g % 4 = 0 then null else now() end,
             case when g % 53 = 7 then now() end, now()
        from p, generate_series(1, ${REVIEWS}) g`);
  });
  for (const table of ['users', 'services', 'service_areas', 'provider_ratings', 'reviews']) {
    await db.execute(sql.raw(`vacuum analyze ${table}`));
  }
  seeded.providerId = String(
    (
      await first(
        sql`select subject_id from reviews group by subject_id order by count(*) desc limit 1`,
      )
    ).subject_id,
  );
  const deep = await first(sql`
    select id, rating_bayes from services where is_active
     order by rating_bayes desc, id desc offset 50000 limit 1`);
  seeded.deepId = String(deep.id);
  seeded.deepBayes = Number(deep.rating_bayes);
  const deepPrice = await first(sql`
    select id, coalesce(price_cents, 2147483647) as p from services where is_active
     order by coalesce(price_cents, 2147483647), id offset 50000 limit 1`);
  seeded.deepPriceId = String(deepPrice.id);
  seeded.deepPrice = Number(deepPrice.p);
}, 600_000);
afterAll(() => t?.close());

const seqScans = (root: PlanNode, tables: string[]) =>
  nodes(root).filter(
    (node) => node['Node Type'] === 'Seq Scan' && tables.includes(node['Relation Name'] ?? ''),
  );
const indexes = (root: PlanNode) =>
  nodes(root)
    .map((node) => node['Index Name'])
    .filter((name): name is string => Boolean(name));
const sorts = (root: PlanNode) => nodes(root).filter((node) => node['Node Type'] === 'Sort');

async function catalogPlan(filter: Omit<CatalogFilter, 'limit'>) {
  const query = catalogQuery(t.app.db, { limit: 21, ...filter });
  return planOf((await t.app.db.execute(sql`explain (format json) ${query}`)) as unknown as Rows);
}

describe(`catalog sorts on ${SERVICES} services`, () => {
  it.each([
    ['sort=rating', () => ({ sort: 'rating' as const }), 'services_catalog_rating_idx'],
    ['sort=relevance', () => ({ sort: 'relevance' as const }), 'services_catalog_rating_idx'],
    [
      'sort=rating, a deep keyset page',
      () => ({ sort: 'rating' as const, after: seeded.deepId, afterKey: seeded.deepBayes }),
      'services_catalog_rating_idx',
    ],
    [
      'sort=rating&category=roofing',
      () => ({ sort: 'rating' as const, category: 'roofing' as const }),
      'services_catalog_rating_idx',
    ],
    ['sort=price', () => ({ sort: 'price' as const }), 'services_catalog_price_idx'],
    [
      'sort=price, a deep keyset page',
      () => ({ sort: 'price' as const, after: seeded.deepPriceId, afterKey: seeded.deepPrice }),
      'services_catalog_price_idx',
    ],
    ['sort=newest', () => ({ sort: 'newest' as const }), 'services_catalog_idx'],
  ])('%s reads %s in order: no Sort, no Seq Scan', async (_name, filter, index) => {
    const root = await catalogPlan(filter());
    expect(indexes(root), describePlan(root)).toContain(index);
    expect(sorts(root), describePlan(root)).toEqual([]);
    expect(seqScans(root, ['services', 'service_areas']), describePlan(root)).toEqual([]);
  });

  it.each([
    ['minRating=4.8', { minRating: 4.8 }],
    ['minRating=4.8&sort=rating', { minRating: 4.8, sort: 'rating' as const }],
    ['minRating=2&sort=price', { minRating: 2, sort: 'price' as const }],
  ])('%s is served by an index of services, no Seq Scan', async (_name, filter) => {
    const root = await catalogPlan(filter);
    expect(seqScans(root, ['services', 'service_areas']), describePlan(root)).toEqual([]);
    expect(
      indexes(root).some((name) => name.startsWith('services_catalog')),
      describePlan(root),
    ).toBe(true);
  });

  it('a rare minRating reads the minRating index itself', async () => {
    const root = await catalogPlan({ minRating: 4.99 });
    expect(indexes(root), describePlan(root)).toContain('services_catalog_min_rating_idx');
  });

  it('the builders run: the rating order is the Bayesian one, keyset pages follow on', async () => {
    const page = await catalogQuery(t.app.db, { limit: 21, sort: 'rating' });
    const keys = page.map((row) => Number(row.sortKey));
    expect(keys).toEqual([...keys].sort((a, b) => b - a));
    const last = page.at(-1)!;
    const next = await catalogQuery(t.app.db, {
      limit: 21,
      sort: 'rating',
      after: last.id,
      afterKey: Number(last.sortKey),
    });
    expect(Number(next[0]!.sortKey)).toBeLessThanOrEqual(Number(last.sortKey));
    expect(next.map((row) => row.id)).not.toContain(last.id);
  });
});

describe(`review lists on ${REVIEWS} reviews`, () => {
  it('a provider’s public reviews (and about=me): one range of reviews_subject_public_idx', async () => {
    const query = reviewsAboutQuery(t.app.db, seeded.providerId, 'homeowner', { limit: 21 });
    const root = planOf(
      (await t.app.db.execute(sql`explain (format json) ${query}`)) as unknown as Rows,
    );
    expect(indexes(root), describePlan(root)).toContain('reviews_subject_public_idx');
    expect(seqScans(root, ['reviews']), describePlan(root)).toEqual([]);
    expect(sorts(root), describePlan(root)).toEqual([]);
  });

  it('about=by-me: one range of reviews_author_idx', async () => {
    const query = reviewsByQuery(t.app.db, seeded.providerId, 'provider', { limit: 21 });
    const root = planOf(
      (await t.app.db.execute(sql`explain (format json) ${query}`)) as unknown as Rows,
    );
    expect(indexes(root), describePlan(root)).toContain('reviews_author_idx');
    expect(seqScans(root, ['reviews']), describePlan(root)).toEqual([]);
    expect(sorts(root), describePlan(root)).toEqual([]);
  });
});
