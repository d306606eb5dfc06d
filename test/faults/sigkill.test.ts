import { afterEach, describe, expect, it } from 'vitest';
import { now, within } from '../helpers/net.js';
import { AppProcess } from './support/app-process.js';
import { Resources } from './support/cleanup.js';
import { call, LoadLoop, tally } from './support/http.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { PASSWORD, uniqueEmail } from './support/users.js';

/**
 * SECURITY.md "Faults", partial writes: a registration writes the user, its role, a verification
 * token, the outbox mail and an audit row in one transaction. SIGKILL the server while many run;
 * after a restart on the same database every account is whole and nothing is orphaned.
 */

const resources = new Resources();
afterEach(() => resources.dispose());

const WRITERS = 12;

describe('SIGKILL mid-request', () => {
  it('leaves no partial registration behind; a restart on the same database serves again', async () => {
    const pg = resources.add(await PrivatePostgres.create(), (instance) => instance.destroy());
    await pg.start();
    const first = resources.add(await AppProcess.start({ databaseUrl: pg.url }), (process) =>
      process.destroy(),
    );

    const acknowledged = new Set<string>();
    const register = async () => {
      const email = uniqueEmail('kill');
      const answer = await call(first.url, 'POST', '/auth/register', {
        body: { email, password: PASSWORD, fullName: 'Killed Midway', role: 'homeowner' },
      });
      if (answer.status === 202) acknowledged.add(email);
      return answer;
    };
    const load = new LoadLoop(
      Array.from({ length: WRITERS }, () => ({ label: 'register', request: register })),
    );
    load.start();
    try {
      await load.untilCount((s) => s.status === 202, 40, 45_000, 'registrations before the kill');
      first.signal('SIGKILL');
      const killed = now();
      const exit = await within(first.exited, 5_000, 'the app dying on SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      await load.stop();

      const restartBegan = now();
      const second = resources.add(await AppProcess.start({ databaseUrl: pg.url }), (process) =>
        process.destroy(),
      );
      const restartMs = now() - restartBegan;

      const [counts] = await pg.query<{
        users: number;
        bad_roles: number;
        bad_tokens: number;
        bad_mails: number;
        orphan_mails: number;
        mails_without_job: number;
        orphan_tokens: number;
        orphan_roles: number;
        bad_audit: number;
        orphan_audit: number;
      }>(
        `with per_user as (
           select u.id, u.email,
             (select count(*) from user_roles r where r.user_id = u.id) as roles,
             (select count(*) from one_time_tokens t
               where t.user_id = u.id and t.purpose = 'verify_email') as tokens,
             (select count(*) from mail_outbox m
               where m.recipient = u.email and m.template = 'verify_email') as mails,
             (select count(*) from audit_events a
               where a.subject_id = u.id and a.type = 'user.registered') as audits
           from users u where u.email like 'kill-%'
         )
         select
           (select count(*)::int from per_user) as users,
           (select count(*)::int from per_user where roles <> 1) as bad_roles,
           (select count(*)::int from per_user where tokens <> 1) as bad_tokens,
           (select count(*)::int from per_user where mails <> 1) as bad_mails,
           (select count(*)::int from mail_outbox m
             where not exists (select 1 from users u where u.email = m.recipient)) as orphan_mails,
           (select count(*)::int from mail_outbox m
             where not exists (select 1 from jobs j
                                where j.name = 'mail.deliver' and j.key = m.id::text)) as mails_without_job,
           (select count(*)::int from one_time_tokens t
             where not exists (select 1 from users u where u.id = t.user_id)) as orphan_tokens,
           (select count(*)::int from user_roles r
             where not exists (select 1 from users u where u.id = r.user_id)) as orphan_roles,
           (select count(*)::int from per_user where audits <> 1) as bad_audit,
           (select count(*)::int from audit_events a
             where a.type = 'user.registered'
               and not exists (select 1 from users u where u.id = a.subject_id)) as orphan_audit`,
      );
      const stored = new Set(
        (
          await pg.query<{ email: string }>(`select email from users where email like 'kill-%'`)
        ).map((row) => row.email),
      );
      const lostAcknowledged = [...acknowledged].filter((email) => !stored.has(email));

      // The restarted server works on the same data.
      const after = await call(second.url, 'POST', '/auth/register', {
        body: {
          email: uniqueEmail('after'),
          password: PASSWORD,
          fullName: 'After',
          role: 'homeowner',
        },
      });
      const ready = await call(second.url, 'GET', '/health/ready');

      console.log(
        `[fault] SIGKILL during ${WRITERS} parallel registration loops: ${acknowledged.size} ` +
          `acknowledged, ${counts?.users} accounts stored (${
            (counts?.users ?? 0) - acknowledged.size
          } committed but unanswered); answers ${JSON.stringify(tally(load.samples))}; ` +
          `integrity ${JSON.stringify(counts)}; acknowledged but lost: ${lostAcknowledged.length}; ` +
          `restart to ready ${Math.round(restartMs)} ms (kill to ready ${Math.round(
            now() - killed,
          )} ms)`,
      );

      expect(counts).toMatchObject({
        bad_roles: 0,
        bad_tokens: 0,
        bad_mails: 0,
        orphan_mails: 0,
        // A queued mail and the job that delivers it are one write: never one without the other.
        mails_without_job: 0,
        orphan_tokens: 0,
        orphan_roles: 0,
      });
      // Same transaction, so the audit trail is whole too (it has no FK, so it is checked here).
      expect(counts?.bad_audit).toBe(0);
      expect(counts?.orphan_audit).toBe(0);
      expect(counts?.users).toBeGreaterThanOrEqual(acknowledged.size);
      expect(lostAcknowledged).toEqual([]);
      for (const sample of load.samples) {
        // Before the kill: 202. The kill itself: the connection breaks (status 0). Never a 5xx.
        expect([0, 202].includes(sample.status), JSON.stringify(sample)).toBe(true);
      }
      expect(after.status).toBe(202);
      expect(ready.status).toBe(200);
    } finally {
      await load.stop();
    }
  });
});
