import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import {
  type CatalogFilter,
  catalogQuery,
  SEARCH_WALK,
} from '../../src/modules/services/catalog.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres, POSTGRES_ONLY } from '../helpers/databases.js';
import { explain, explainGeneric, nodes, type PlanNode, rowsRead } from '../helpers/plans.js';
import { loginAs } from '../helpers/users.js';

/**
 * The catalog's queries use indexes. Each plan is EXPLAINed from the very query builder the route
 * runs (catalogQuery), on a few thousand seeded services with fresh statistics.
 */
const PROVIDERS = 50;
const SERVICES = 4000;

let t: TestContext;
let deepCursor: string;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  await t.app.db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    select gen_random_uuid(), 'seed-' || g || '@example.com', 'Provider ' || g, 'x', true
      from generate_series(1, ${PROVIDERS}) g`);
  // Spread like a real catalog: 13 categories, 400 postal codes, one in ten inactive, and a word
  // ("solar") that only a few services use.
  await t.app.db.execute(sql`
    with p as (select array_agg(id order by id) as ids from users where email like 'seed-%')
    insert into services (id, provider_id, title, description, category, pricing_model,
                          price_cents, postal_codes, is_active)
    select gen_random_uuid(), p.ids[1 + g % ${PROVIDERS}],
           'Service ' || g || ' ' || (array['leak','wiring','roof','garden','paint'])[1 + g % 5],
           case when g % 400 = 1 then 'solar panels fitted' else 'reliable and tidy work' end,
           (array['plumbing','electrical','hvac','roofing','cleaning','landscaping','painting',
                  'carpentry','pest_control','appliance_repair','handyman','moving','other'])[1 + g % 13],
           'fixed', 1000 + g,
           array[lpad((g % 400)::text, 5, '0'), lpad(((g * 7) % 400)::text, 5, '0')],
           g % 10 <> 0
      from p, generate_series(1, ${SERVICES}) g`);
  // VACUUM as autovacuum would: it also moves the bulk insert out of the GIN indexes' pending
  // lists, which the planner otherwise prices so high that it never picks a GIN index.
  await t.app.db.execute(sql`vacuum analyze users`);
  await t.app.db.execute(sql`vacuum analyze services`);
  const result = (await t.app.db.execute(
    sql`select id from services where is_active order by id desc offset 3000 limit 1`,
  )) as unknown as { rows: Array<{ id: string }> };
  deepCursor = result.rows[0]!.id;
});
afterAll(() => t?.close());

async function plan(filter: Omit<CatalogFilter, 'limit'>): Promise<PlanNode> {
  return explain(t.app.db as Db, catalogQuery(t.app.db, { limit: 21, ...filter }));
}

/**
 * The plan PostgreSQL keeps for the route's prepared statement once it stops planning per call
 * (forced here): the statement is prepared from the same builder with placeholders, as
 * CatalogReader prepares it, and EXPLAIN EXECUTE shows the generic plan for the given values.
 */
async function genericPlan(
  filter: Omit<CatalogFilter, 'limit'>,
  { context = t, analyze = false } = {},
): Promise<PlanNode> {
  // The order chooses the statement, as in CatalogReader; every other filter is a parameter.
  const { sort, ...values } = filter;
  const parameters = Object.fromEntries(
    Object.keys(values).map((name) => [name, sql.placeholder(name)]),
  );
  const query = catalogQuery(context.app.db, { ...parameters, sort, limit: 21 });
  return explainGeneric(context.app.db as Db, query, values, { analyze });
}

const CATALOG_TABLES = ['services', 'service_areas'];
const onServices = (root: PlanNode) =>
  nodes(root).filter(
    (node) => CATALOG_TABLES.includes(node['Relation Name'] ?? '') || node['Index Name'],
  );
const seqScansOnServices = (root: PlanNode) =>
  nodes(root).filter(
    (node) =>
      node['Node Type'] === 'Seq Scan' && CATALOG_TABLES.includes(node['Relation Name'] ?? ''),
  );
const indexesUsed = (root: PlanNode) =>
  nodes(root)
    .map((node) => node['Index Name'])
    .filter((name): name is string => Boolean(name?.startsWith('service')));
const describePlan = (root: PlanNode) =>
  onServices(root)
    .map((node) => `${node['Node Type']}${node['Index Name'] ? ` ${node['Index Name']}` : ''}`)
    .join(' / ');

describe(`catalog query plans on ${SERVICES} services`, () => {
  it('the first page walks the catalog index, no Seq Scan on services', async () => {
    const root = await plan({});
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root), describePlan(root)).toContain('services_catalog_idx');
  });

  it('a deep keyset page costs what the first does: the same index, no Seq Scan', async () => {
    const root = await plan({ after: deepCursor });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root), describePlan(root)).toContain('services_catalog_idx');
  });

  it('category + postalCode reads the area index in catalog order, no sort', async () => {
    const root = await plan({ category: 'roofing', postalCode: '00042' });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root), describePlan(root)).toContain('service_areas_category_idx');
    expect(nodes(root).map((node) => node['Node Type'])).not.toContain('Sort');
  });

  it('a q search for rare words is served by the full-text GIN index', async () => {
    const root = await plan({ q: 'solar panels' });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root), describePlan(root)).toContain('services_search_idx');
  });

  it('a q search for a common word is served by an index on services', async () => {
    const root = await plan({ q: 'leak' });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root).length, describePlan(root)).toBeGreaterThan(0);
  });

  it('every filter at once, on a deep page, is served by an index on services', async () => {
    const root = await plan({
      category: 'roofing',
      postalCode: '00042',
      q: 'roof',
      after: deepCursor,
    });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root).length, describePlan(root)).toBeGreaterThan(0);
  });

  it('postalCode alone reads the area index', async () => {
    const root = await plan({ postalCode: '00042' });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root).join(), describePlan(root)).toMatch(/service_areas_/);
  });

  it.each([
    [{}, 'services_catalog_idx'],
    [{ after: 'deep' }, 'services_catalog_idx'],
    [{ category: 'roofing' }, 'services_catalog_category_idx'],
    [{ postalCode: '00042' }, 'service_areas_'],
    [{ category: 'roofing', postalCode: '00042', after: 'deep' }, 'service_areas_category_idx'],
  ] as const)('the prepared statement’s generic plan for %j uses %s', async (filter, index) => {
    const root = await genericPlan({
      ...filter,
      ...('after' in filter && { after: deepCursor }),
    });
    expect(seqScansOnServices(root), describePlan(root)).toEqual([]);
    expect(indexesUsed(root).join(), describePlan(root)).toContain(index);
  });

  /** The catalog's `q` by its plain definition: every match, in the order's full sequence. */
  async function matchesByDefinition(q: string, sort: 'newest' | 'rating' | 'price') {
    const order = {
      newest: sql`s.id desc`,
      rating: sql`s.rating_bayes desc, s.id desc`,
      price: sql`coalesce(s.price_cents, 2147483647), s.id`,
    }[sort];
    const result = (await t.app.db.execute(sql`
      select s.id from services s join users u on u.id = s.provider_id and u.is_active
       where s.is_active and s.search @@ plainto_tsquery('simple', ${q})
       order by ${order}`)) as unknown as { rows: Array<{ id: string }> };
    return result.rows.map((row) => row.id);
  }

  it.each([
    ['newest', 'solar'],
    ['rating', 'solar'],
    ['price', 'solar'],
    ['price', 'zebra'],
    ['rating', 'leak'],
  ] as const)(
    'q in %s order pages through every match of %j, past the bounded walk too',
    async (sort, q) => {
      const expected = await matchesByDefinition(q, sort);
      const limit = 3;
      const seen: string[] = [];
      let cursor: Pick<CatalogFilter, 'after' | 'afterKey'> = {};
      for (let pages = 0; pages < 5; pages++) {
        const rows = await catalogQuery(t.app.db, { limit, q, sort, ...cursor });
        seen.push(...rows.map((row) => row.id));
        const last = rows.at(-1);
        if (rows.length < limit || !last) break;
        cursor = { after: last.id, afterKey: last.sortKey ?? undefined };
      }
      expect(seen).toEqual(expected.slice(0, 5 * limit));
    },
  );

  it('the route answers from the same query: the seeded catalog pages through', async () => {
    // Runs the exact builder for real, so the EXPLAINed SQL is also known to be valid SQL.
    const rows = await catalogQuery(t.app.db, { limit: 21, q: 'solar panels' });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.isActive).toBe(true);
  });
});

/**
 * A word absent from the data, on a catalog as large as the bench's and with a vocabulary as
 * small: every word of it is in the statistics, so PostgreSQL prices an unknown word at 0.5 % of
 * the rows (and so does a generic plan, any word), and a plain `search @@ q` walked the whole
 * catalog newest first to find nothing. EXPLAIN ANALYZE shows what each plan really read.
 */
describe('q on 100,000 services of a small vocabulary: bounded for any word', () => {
  const LARGE = 100_000;
  let big: TestContext;
  beforeAll(async () => {
    // Seeding 100,000 services (and their index entries) outlasts the default statement timeout
    // on a busy machine.
    big = await createTestApp({ noSmtp: true, env: { DB_STATEMENT_TIMEOUT_MS: '600000' } });
    const db = big.app.db;
    await db.execute(sql`
      insert into users (id, email, full_name, password_hash, email_verified)
      select gen_random_uuid(), 'vocab-' || g || '@example.com', 'Provider ' || g, 'x', true
        from generate_series(1, 1000) g`);
    // Words like the bench seed's: each of them in at least 1 in 13 services, none rarer.
    await db.execute(sql`
      with p as (select array_agg(id order by id) as ids from users where email like 'vocab-%')
      insert into services (id, provider_id, title, description, category, pricing_model,
                            price_cents, postal_codes, is_active)
      select gen_random_uuid(), p.ids[1 + g % 1000],
             (array['Reliable','Licensed','Local','Fast','Friendly'])[1 + g % 5] || ' ' ||
             (array['leak','panel','furnace','roof','window','lawn','wall','deck','termite',
                    'fridge','shelf','piano','chimney'])[1 + g % 13] || ' ' ||
             (array['repair','install','cleaning','inspection'])[1 + g % 4],
             'We bring our own tools. ' ||
             (array['Free estimates.','Weekend visits.','Upfront pricing.'])[1 + g % 3],
             (array['plumbing','electrical','hvac','roofing','cleaning','landscaping','painting',
                    'carpentry','pest_control','appliance_repair','handyman','moving','other'])[1 + g % 13],
             'fixed', 1000 + g, array[lpad((g % 300)::text, 5, '0')], g % 50 <> 0
        from p, generate_series(1, ${LARGE}) g`);
    for (const table of ['users', 'services', 'service_areas']) {
      await db.execute(sql.raw(`vacuum analyze ${table}`));
    }
    // PGlite on a loaded machine took more than the default minute to seed (CI, load 8).
  }, 300_000);
  afterAll(() => big?.close());

  async function analyzed(filter: Omit<CatalogFilter, 'limit'>, generic: boolean) {
    if (generic) return genericPlan(filter, { context: big, analyze: true });
    return explain(big.app.db as Db, catalogQuery(big.app.db, { limit: 21, ...filter }), {
      analyze: true,
    });
  }
  const onTable = (root: PlanNode) =>
    nodes(root).filter(
      (node) => node['Relation Name'] === 'services' || node['Index Name']?.startsWith('services'),
    );
  const ran = (root: PlanNode, index: string) =>
    nodes(root).filter((node) => node['Index Name'] === index && (node['Actual Loops'] ?? 0) > 0);
  const reads = (root: PlanNode) =>
    onTable(root)
      .map((node) => `${node['Node Type']} ${node['Index Name'] ?? ''}: ${rowsRead(node)} rows`)
      .join(' / ');

  const orderIndex = {
    newest: 'services_catalog_idx',
    rating: 'services_catalog_rating_idx',
    relevance: 'services_catalog_rating_idx',
    price: 'services_catalog_price_idx',
  } as const;
  for (const [sort, index] of Object.entries(orderIndex) as [keyof typeof orderIndex, string][])
    for (const generic of [false, true]) {
      const kind = `${generic ? 'the prepared statement’s generic plan' : 'a plan for the word'} in ${sort} order`;
      it(`a word absent from the data: ${kind} reads at most ${SEARCH_WALK} services in order, then the GIN index`, async () => {
        const root = await analyzed({ q: 'zebra', sort }, generic);
        expect(ran(root, 'services_search_idx').length, reads(root)).toBeGreaterThan(0);
        for (const node of onTable(root)) {
          expect(rowsRead(node), reads(root)).toBeLessThanOrEqual(SEARCH_WALK + 100);
        }
      });

      it(`a word in every 13th service: ${kind} stays an ordered walk of ${index}, never the GIN index`, async () => {
        const root = await analyzed({ q: 'piano', sort }, generic);
        expect(ran(root, index).length, reads(root)).toBeGreaterThan(0);
        expect(ran(root, 'services_search_idx'), reads(root)).toEqual([]);
        // 21 matches among about 13 × 21 of the first services in the order, not SEARCH_WALK.
        for (const node of onTable(root)) {
          expect(rowsRead(node), reads(root)).toBeLessThanOrEqual(21 * 13 * 2);
        }
      });
    }
});

describe('the route keeps its plans (PostgreSQL)', () => {
  /**
   * Requests one at a time go through the same pooled connection (node-postgres hands out the
   * most recently released one), so its pg_prepared_statements shows what PostgreSQL did.
   */
  it.skipIf(!onPostgres)(
    `after its first calls, the first page runs from a kept generic plan, not a fresh plan each time ${POSTGRES_ONLY}`,
    async () => {
      const viewer = await loginAs(t, ['homeowner']);
      for (let i = 0; i < 8; i++) {
        const res = await t.app.inject({
          method: 'GET',
          url: '/services?limit=20',
          headers: viewer.headers,
        });
        expect(res.statusCode).toBe(200);
      }
      const result = (await t.app.db.execute(
        sql`select generic_plans::int as generic, custom_plans::int as custom
              from pg_prepared_statements where name = 'catalog_all_21'`,
      )) as unknown as { rows: Array<{ generic: number; custom: number }> };
      const [statement] = result.rows;
      expect(statement, 'catalog_all_21 is prepared on this connection').toBeDefined();
      // PostgreSQL plans the first five calls afresh, then keeps the generic plan.
      expect(statement!.custom).toBeLessThanOrEqual(5);
      expect(statement!.generic).toBeGreaterThanOrEqual(3);
    },
  );
});
