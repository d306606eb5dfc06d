import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsQuery, replayQuery } from '../../src/modules/notifications/repository.js';
import { retentionCutoffs } from '../../src/modules/retention/job.js';
import { retentionTargets } from '../../src/modules/retention/repository.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { describePlan, nodes, type PlanNode, planOf, type Rows } from '../helpers/plans.js';

/**
 * The notification list and the stream's replay read one range of one index. Each plan is
 * EXPLAINed from the query builder the route runs, on 40 000 seeded notifications (2 000 of one
 * user, half of them read) with fresh statistics.
 */
const USERS = 20;
const PER_USER = 2000;

let t: TestContext;
let userId: string;
let middle: string;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  await t.app.db.execute(sql`
    insert into users (id, email, full_name, password_hash, email_verified)
    select gen_random_uuid(), 'seed-' || g || '@example.com', 'User ' || g, 'x', true
      from generate_series(1, ${USERS}) g`);
  // Time-ordered ids as the app writes them (UUID v7 layout: 48 bits of milliseconds first).
  await t.app.db.execute(sql`
    with u as (select id, row_number() over (order by id) as n from users where email like 'seed-%')
    insert into notifications (id, user_id, kind, title, body, read_at)
    select (lpad(to_hex(1700000000000 + g * 1000 + u.n), 12, '0') || '7000' || '8' ||
            lpad(to_hex(u.n * 100000 + g), 15, '0'))::uuid,
           u.id, 'booking.updated', 'Title ' || g, 'Body ' || g,
           case when g % 2 = 0 then now() end
      from u, generate_series(1, ${PER_USER}) g`);
  await t.app.db.execute(sql`vacuum analyze notifications`);
  const first = (await t.app.db.execute(
    sql`select user_id, (array_agg(id order by id))[${PER_USER / 2}]::text as middle
          from notifications group by user_id order by user_id limit 1`,
  )) as unknown as { rows: Array<{ user_id: string; middle: string }> };
  userId = first.rows[0]!.user_id;
  middle = first.rows[0]!.middle;
});
afterAll(() => t?.close());

async function explain(query: { toSQL(): unknown }): Promise<PlanNode> {
  return planOf((await t.app.db.execute(sql`explain (format json) ${query}`)) as unknown as Rows);
}

/** One index scan on `index`: no sequential scan, no sort, no bitmap of the whole user. */
function expectOneRange(root: PlanNode, index: string) {
  const plan = describePlan(root);
  const kinds = nodes(root).map((node) => node['Node Type']);
  expect(kinds, plan).not.toContain('Seq Scan');
  expect(kinds, plan).not.toContain('Sort');
  expect(kinds, plan).not.toContain('Bitmap Heap Scan');
  expect(
    nodes(root)
      .filter((node) => node['Index Name'])
      .map((node) => node['Index Name']),
    plan,
  ).toEqual([index]);
}

describe(`notification query plans on ${USERS * PER_USER} notifications`, () => {
  it('the first page reads the user’s range of notifications_user_idx', async () => {
    expectOneRange(
      await explain(notificationsQuery(t.app.db, userId, { limit: 21 })),
      'notifications_user_idx',
    );
  });

  it('a deep keyset page reads the same index', async () => {
    expectOneRange(
      await explain(notificationsQuery(t.app.db, userId, { limit: 21, after: middle })),
      'notifications_user_idx',
    );
  });

  it('unread=true reads the partial index of unread notifications', async () => {
    expectOneRange(
      await explain(notificationsQuery(t.app.db, userId, { limit: 21, unread: true })),
      'notifications_unread_idx',
    );
    expectOneRange(
      await explain(
        notificationsQuery(t.app.db, userId, { limit: 21, unread: true, after: middle }),
      ),
      'notifications_unread_idx',
    );
  });

  it('the stream’s replay after Last-Event-ID reads notifications_user_idx, oldest first', async () => {
    expectOneRange(
      await explain(replayQuery(t.app.db, userId, middle, 200)),
      'notifications_user_idx',
    );
  });

  it('retention’s batch of old read notifications reads notifications_read_idx, never unread rows', async () => {
    const cutoffs = retentionCutoffs(
      {
        retention: { days: 30, auditDays: 0, batchSize: 1000, notificationDays: 90 },
        refreshTokenTtl: 3600,
      },
      new Date(),
    );
    const target = retentionTargets(cutoffs).find((each) => each.table === 'notifications');
    expect(target).toBeDefined();
    // The batch deleteBatch runs: `delete … where id in (select id … where <this> limit n)`.
    const root = planOf(
      (await t.app.db.execute(
        sql`explain (format json) select id from notifications where ${target!.where} limit 1000`,
      )) as unknown as Rows,
    );
    const kinds = nodes(root).map((node) => node['Node Type']);
    expect(kinds, describePlan(root)).not.toContain('Seq Scan');
    expect(
      nodes(root)
        .map((node) => node['Index Name'])
        .filter(Boolean),
      describePlan(root),
    ).toEqual(['notifications_read_idx']);
  });
});
