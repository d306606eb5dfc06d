import { Placeholder, type SQLWrapper, sql } from 'drizzle-orm';
import { marketplaceSeedStatements } from '../../bench/lib/marketplace-seed.js';
import type { Db } from '../../src/db/client.js';

/**
 * Reading query plans, for the EXPLAIN tests that prove each list reads one index range: the
 * JSON plan of a built (not run) query, its nodes, a one-line description for failure
 * messages, and the seeded marketplace the marketplace and message plans are read on.
 */

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  /** With EXPLAIN ANALYZE: rows out per loop, loops run (0: never executed), rows filtered out. */
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

export type Rows = { rows: Array<Record<string, unknown>> };

/** The root of an `explain (format json)` result, as either database returns it. */
export function planOf(result: Rows): PlanNode {
  const raw = Object.values(result.rows[0]!)[0];
  const document = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>;
  return document[0]!.Plan;
}

/** The plan of a query built with the app's own builders; `analyze` runs it too. */
export async function explain(
  db: Db,
  query: SQLWrapper | object,
  { analyze = false } = {},
): Promise<PlanNode> {
  const options = analyze ? sql`analyze, format json` : sql`format json`;
  return planOf(
    (await db.execute(sql`explain (${options}) ${query as SQLWrapper}`)) as unknown as Rows,
  );
}

/**
 * The plan PostgreSQL keeps for a route's prepared statement once it stops planning per call
 * (forced here): `query` is built with placeholders, as the route prepares it, and EXPLAIN
 * EXECUTE shows the generic plan for `values` (by placeholder name).
 */
export async function explainGeneric(
  db: Db,
  query: { toSQL(): { sql: string; params: unknown[] } },
  values: Record<string, unknown>,
  { analyze = false } = {},
): Promise<PlanNode> {
  const prepared = query.toSQL();
  const args = prepared.params.map((param) =>
    param instanceof Placeholder ? values[param.name] : param,
  );
  // EXPLAIN EXECUTE takes no bound parameters: the (tests' own, known) values go in as literals.
  const literal = (value: unknown) =>
    typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`;
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
    // PREPARE outlives a rollback: always DEALLOCATE, or the next call finds the name taken.
    await tx.execute(sql.raw(`prepare generic_plan as ${prepared.sql}`));
    try {
      const result = await tx.execute(
        sql.raw(
          `explain (${analyze ? 'analyze, ' : ''}format json) execute generic_plan${args.length ? `(${args.map(literal).join(', ')})` : ''}`,
        ),
      );
      return planOf(result as unknown as Rows);
    } finally {
      await tx.execute(sql`deallocate generic_plan`);
    }
  });
}

/** Rows a node of an EXPLAIN ANALYZE plan read in all its loops: those it returned and filtered out. */
export const rowsRead = (node: PlanNode) =>
  ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) *
  (node['Actual Loops'] ?? 0);

export const nodes = (root: PlanNode): PlanNode[] => [root, ...(root.Plans ?? []).flatMap(nodes)];

/** "Limit / Index Scan job_requests_open_idx on job_requests / …", for failure messages. */
export const describePlan = (root: PlanNode, among: PlanNode[] = nodes(root)) =>
  among
    .map(
      (node) =>
        `${node['Node Type']}${node['Index Name'] ? ` ${node['Index Name']}` : ''}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}`,
    )
    .join(' / ');

/** The first row a query returns, or an empty record. */
export async function firstRow(db: Db, query: SQLWrapper): Promise<Record<string, unknown>> {
  return ((await db.execute(query)) as unknown as Rows).rows[0] ?? {};
}

export interface PlanMarketplaceSize {
  homeowners: number;
  providers: number;
  services: number;
  requests: number;
}

/** 1/20 of the issue's size: 5,000 requests, about 15,000 quotes, 2,500 bookings. */
export const PLAN_MARKETPLACE: PlanMarketplaceSize = {
  homeowners: 200,
  providers: 100,
  services: 1_000,
  requests: 5_000,
};

/**
 * The marketplace the EXPLAIN tests plan on: `homeowners` accounts (`plan-owner-N`) with a
 * property each over 60 postal codes, `providers` accounts (`plan-pro-N`) sharing `services`
 * active services, and the bench's own marketplace seed (bench/lib/marketplace-seed.ts) of
 * `requests` requests with their quotes and bookings. Statistics are left to the caller, which
 * adds its own rows first.
 */
export async function seedPlanMarketplace(
  db: Db,
  size: PlanMarketplaceSize = PLAN_MARKETPLACE,
): Promise<void> {
  await db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    select gen_random_uuid(), 'plan-' || kind || '-' || g || '@example.com', 'Plan ' || g, 'x', true
      from generate_series(1, ${size.homeowners + size.providers}) g,
           lateral (select case when g <= ${size.homeowners} then 'owner' else 'pro' end as kind) k`);
  await db.execute(sql`
    insert into properties (id, owner_id, name, address_line1, city, region, postal_code, country,
                            property_type)
    select gen_random_uuid(), id, 'Home', '1 Plan Street', 'Springfield', 'IL',
           lpad((row_number() over (order by id) % 60)::text, 5, '0'), 'US', 'single_family'
      from users where email like 'plan-owner-%'`);
  await db.execute(sql`
    with p as (select array_agg(id order by id) as ids from users where email like 'plan-pro-%')
    insert into services (id, provider_id, title, description, category, pricing_model, price_cents,
                          postal_codes, is_active)
    select gen_random_uuid(), p.ids[1 + g % ${size.providers}], 'Service ' || g, 'Seeded for the plan tests.',
           (array['plumbing','electrical','hvac','roofing','cleaning','landscaping','painting',
                  'carpentry','pest_control','appliance_repair','handyman','moving','other'])[1 + g % 13],
           'fixed', 1000 + g,
           array[lpad((g % 60)::text, 5, '0'), lpad(((g * 7) % 60)::text, 5, '0')], true
      from p, generate_series(1, ${size.services}) g`);
  await db.transaction(async (tx) => {
    for (const statement of marketplaceSeedStatements({ requests: size.requests })) {
      await tx.execute(sql.raw(statement));
    }
  });
}
