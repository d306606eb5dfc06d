import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import {
  bookingsQuery,
  feedQuery,
  homeownerRequestsQuery,
  requestQuotesQuery,
} from '../../src/modules/marketplace/repository.js';

/**
 * The marketplace lists' plans on the bench's full seed (100k requests, 300k quotes, 50k
 * bookings): EXPLAIN ANALYZE of the very query builders the routes run, for the busiest party of
 * each list. test/marketplace/lists.explain.test.ts asserts the same plans at 1/20 of the size on
 * both databases; this shows they hold at full size, with the time each first page takes.
 */

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (root: PlanNode): PlanNode[] => [root, ...(root.Plans ?? []).flatMap(nodes)];

function describe(root: PlanNode, table: string, time: number): string {
  const all = nodes(root);
  const scans = all.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === table);
  const indexes = [...new Set(all.map((n) => n['Index Name']).filter(Boolean))].join(', ');
  const verdict = scans.length ? `SEQ SCAN of ${table}` : `index range (${indexes})`;
  const sorted = all.some((n) => n['Node Type'] === 'Sort') ? ', then a sort of the page' : '';
  return `${verdict}${sorted}, ${time.toFixed(2)} ms`;
}

export async function marketplacePlans(databaseUrl: string): Promise<Record<string, string>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = drizzle({ client: pool, schema, casing: 'snake_case' }) as unknown as Db;
  const first = async (query: ReturnType<typeof sql>) =>
    ((await db.execute(query)) as unknown as { rows: Array<Record<string, string>> }).rows[0] ?? {};
  const explain = async (query: object, table: string) => {
    const result = (await db.execute(
      sql`explain (analyze, format json) ${query as ReturnType<typeof sql>}`,
    )) as unknown as { rows: Array<Record<string, unknown>> };
    const raw = Object.values(result.rows[0]!)[0];
    const [document] = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{
      Plan: PlanNode;
      'Execution Time': number;
    }>;
    return describe(document!.Plan, table, document!['Execution Time']);
  };
  try {
    const busiest = await first(sql`
      select homeowner_id, provider_id from bookings
       group by homeowner_id, provider_id order by count(*) desc limit 1`);
    const homeownerId = busiest.homeowner_id!;
    const providerId = busiest.provider_id!;
    const area = await first(sql`
      select s.category, a.postal_code from services s join service_areas a on a.service_id = s.id
       where s.provider_id = ${providerId} and s.is_active limit 1`);
    const request = await first(sql`
      select request_id from quotes group by request_id order by count(*) desc, request_id limit 1`);
    const page = { limit: 21 };
    return {
      'GET /homeowners/requests': await explain(
        homeownerRequestsQuery(db, homeownerId, page),
        'job_requests',
      ),
      'GET /homeowners/requests/{id}/quotes': await explain(
        requestQuotesQuery(db, request.request_id!, page),
        'quotes',
      ),
      'GET /service-providers/requests': await explain(
        feedQuery(db, providerId, page),
        'job_requests',
      ),
      'GET /service-providers/requests?category&postalCode': await explain(
        feedQuery(db, providerId, {
          ...page,
          category: area.category as never,
          postalCode: area.postal_code,
        }),
        'job_requests',
      ),
      'GET /homeowners/bookings': await explain(
        bookingsQuery(db, { ...page, party: { homeownerId } }),
        'bookings',
      ),
      'GET /service-providers/bookings?state=scheduled': await explain(
        bookingsQuery(db, { ...page, party: { providerId }, state: 'scheduled' }),
        'bookings',
      ),
      'GET /admin/bookings?state=confirmed': await explain(
        bookingsQuery(db, { ...page, state: 'confirmed' }),
        'bookings',
      ),
    };
  } finally {
    await pool.end();
  }
}
