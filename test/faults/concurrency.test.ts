import { afterEach, describe, expect, it } from 'vitest';
import { now } from '../helpers/net.js';
import { AppProcess } from './support/app-process.js';
import { Resources } from './support/cleanup.js';
import { call, login, tally } from './support/http.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { insertUser, PASSWORD } from './support/users.js';

/**
 * A database full of concurrent writers: many parallel creates by one owner, and parallel
 * registrations of one email in case variants (one account, no 5xx, no deadlock).
 */

const resources = new Resources();
afterEach(() => resources.dispose());

async function setUp() {
  const pg = resources.add(await PrivatePostgres.create(), (instance) => instance.destroy());
  await pg.start();
  const server = resources.add(await AppProcess.start({ databaseUrl: pg.url }), (process) =>
    process.destroy(),
  );
  return { pg, server };
}

describe('concurrent writers', () => {
  it('50 parallel POST /homeowners/properties by one homeowner: 50 × 201, 50 rows', async () => {
    const { pg, server } = await setUp();
    const owner = await insertUser(pg, { roles: ['homeowner'] });
    const token = await login(server.url, owner.email, owner.password);
    // A removed or renamed route must fail here, not turn this test into a quiet skip.
    const probe = await call(server.url, 'GET', '/homeowners/properties', { token });
    expect(probe.status).toBe(200);

    const started = now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(server.url, 'POST', '/homeowners/properties', {
          token,
          body: {
            name: `Parallel home ${i}`,
            addressLine1: `${i} Concurrency Lane`,
            city: 'Springfield',
            region: 'IL',
            postalCode: '62701',
            country: 'US',
            propertyType: 'single_family',
          },
        }),
      ),
    );
    const elapsed = now() - started;
    const rows = await pg.query<{ count: number; names: number }>(
      'select count(*)::int as count, count(distinct name)::int as names from properties where owner_id = $1',
      [owner.id],
    );
    console.log(
      `[fault] 50 parallel property creates: ${JSON.stringify(tally(answers))} in ${Math.round(
        elapsed,
      )} ms (slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms); rows ${rows[0]?.count}`,
    );

    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201));
    const ids = new Set(answers.map((a) => (a.body as { id: string }).id));
    expect(ids.size).toBe(50);
    for (const answer of answers) {
      expect(answer.body).toMatchObject({ ownerId: owner.id, country: 'US' });
    }
    expect(rows[0]).toEqual({ count: 50, names: 50 });
    expect(pg.log()).not.toMatch(/deadlock detected/);
  });

  it('20 parallel registrations of one email in case variants: all 202, exactly one account', async () => {
    const { pg, server } = await setUp();
    const local = `race-${Date.now().toString(36)}`;
    const variants = Array.from({ length: 20 }, (_, i) => {
      const mixed = [...`${local}@example.com`]
        .map((char, j) => ((i >> (j % 5)) & 1 ? char.toUpperCase() : char))
        .join('');
      return i % 4 === 3 ? `  ${mixed} ` : mixed;
    });
    const email = `${local}@example.com`;

    const started = now();
    const answers = await Promise.all(
      variants.map((variant, i) =>
        call(server.url, 'POST', '/auth/register', {
          body: { email: variant, password: PASSWORD, fullName: `Racer ${i}`, role: 'homeowner' },
        }),
      ),
    );
    const elapsed = now() - started;
    const [counts] = await pg.query<{
      users: number;
      roles: number;
      tokens: number;
      verify_mails: number;
      already_mails: number;
      registered_events: number;
    }>(
      `select
         (select count(*)::int from users where lower(email) = $1) as users,
         (select count(*)::int from user_roles r join users u on u.id = r.user_id where u.email = $1) as roles,
         (select count(*)::int from one_time_tokens t join users u on u.id = t.user_id where u.email = $1) as tokens,
         (select count(*)::int from mail_outbox where recipient = $1 and template = 'verify_email') as verify_mails,
         (select count(*)::int from mail_outbox where recipient = $1 and template = 'already_registered') as already_mails,
         (select count(*)::int from audit_events a join users u on u.id = a.subject_id
           where u.email = $1 and a.type = 'user.registered') as registered_events`,
      [email],
    );
    console.log(
      `[fault] 20 parallel registrations of one email: ${JSON.stringify(tally(answers))} in ${Math.round(
        elapsed,
      )} ms (slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms); ${JSON.stringify(counts)}`,
    );

    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    expect(counts).toEqual({
      users: 1,
      roles: 1,
      tokens: 1,
      verify_mails: 1,
      already_mails: 19,
      registered_events: 1,
    });
    expect(pg.log()).not.toMatch(/deadlock detected/);
    expect(server.alive).toBe(true);
  });
});
