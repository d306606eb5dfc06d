import { type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';

/**
 * Reading query plans, for the EXPLAIN tests that prove each list reads one index range: the
 * JSON plan of a built (not run) query, its nodes, and a one-line description for failure
 * messages.
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

/** The plan of a query built with the app's own builders. */
export async function explain(db: Db, query: SQLWrapper | object): Promise<PlanNode> {
  return planOf(
    (await db.execute(sql`explain (format json) ${query as SQLWrapper}`)) as unknown as Rows,
  );
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
