import { afterEach, describe, expect, it } from 'vitest';
import { Mailbox, type ReceivedMail } from '../helpers/mailbox.js';
import { freePort, now, pollUntil, within } from '../helpers/net.js';
import { AppProcess } from './support/app-process.js';
import { Resources } from './support/cleanup.js';
import { call } from './support/http.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { insertUser, PASSWORD, uniqueEmail } from './support/users.js';

/**
 * SECURITY.md "Faults", SMTP down: the request still succeeds; the mail waits in the database
 * outbox and is delivered with retries (backoff 2^attempt s) once SMTP is back; none twice.
 */

const resources = new Resources();
afterEach(() => resources.dispose());

/** A Mailbox (in-process SMTP server) on `port`; stopping it twice is harmless. */
async function mailboxOn(port: number): Promise<Mailbox> {
  const mailbox = resources.add(new Mailbox(), (box) => box.stop());
  await mailbox.start(port);
  return mailbox;
}

describe('SMTP server stopped', () => {
  it('registrations and resets answer 202 at once; every mail arrives once SMTP is back', async () => {
    const pg = resources.add(await PrivatePostgres.create(), (instance) => instance.destroy());
    await pg.start();
    const smtpPort = await freePort();
    const before = await mailboxOn(smtpPort);
    const server = resources.add(
      await AppProcess.start({
        databaseUrl: pg.url,
        env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'no-reply@homefront.test' },
      }),
      (process) => process.destroy(),
    );

    // Delivery works before the outage.
    const early = uniqueEmail('early');
    const earlyAnswer = await call(server.url, 'POST', '/auth/register', {
      body: { email: early, password: PASSWORD, fullName: 'Early', role: 'homeowner' },
    });
    expect(earlyAnswer.status).toBe(202);
    await within(before.next(early), 20_000, 'the mail sent before the outage');

    const forgetful = await Promise.all([insertUser(pg), insertUser(pg)]);
    await before.stop();
    const down = now();

    const newcomers = Array.from({ length: 5 }, (_, i) => uniqueEmail(`smtp-down-${i}`));
    const answers = await Promise.all([
      ...newcomers.map((email) =>
        call(server.url, 'POST', '/auth/register', {
          body: { email, password: PASSWORD, fullName: 'Mail Later', role: 'service_provider' },
        }),
      ),
      ...forgetful.map((user) =>
        call(server.url, 'POST', '/auth/forgot-password', { body: { email: user.email } }),
      ),
    ]);
    const recipients = [...newcomers, ...forgetful.map((user) => user.email)];
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer)).toBe(202);
      expect(answer.ms).toBeLessThan(3_000);
    }

    // The worker has tried every one of them twice and failed (a first try and one retry after
    // its backoff): the outage is real, not a race.
    const failed = await pollUntil(
      async () => {
        const rows = await pg.query<{ recipient: string; attempts: number; last_error: string }>(
          `select recipient, attempts, last_error from mail_outbox
            where recipient = any($1) and status = 'pending' and attempts >= 2
              and last_error is not null`,
          [recipients],
        );
        return rows.length === recipients.length ? rows : undefined;
      },
      30_000,
      'every queued mail failing twice',
      100,
    );
    const outageMs = now() - down;

    const after = await mailboxOn(smtpPort);
    const up = now();
    const arrivals: Array<{ to: string; ms: number; mail: ReceivedMail }> = await within(
      Promise.all(
        recipients.map(async (to) => {
          const mail = await after.next(to);
          return { to, ms: now() - up, mail };
        }),
      ),
      60_000,
      'every mail after SMTP came back',
    );

    // Once every row is marked sent nothing more will be sent: then count per recipient.
    const sent = await pollUntil(
      async () => {
        const rows = await pg.query<{ status: string; attempts: number }>(
          `select status, attempts from mail_outbox where recipient = any($1)`,
          [recipients],
        );
        return rows.every((row) => row.status === 'sent') ? rows : undefined;
      },
      20_000,
      'every outbox row marked sent',
      100,
    );

    console.log(
      `[fault] SMTP stopped: 7 requests answered 202 in max ${Math.round(
        Math.max(...answers.map((a) => a.ms)),
      )} ms; SMTP down ${Math.round(outageMs)} ms (every mail failed ≥2 times: ` +
        `${failed.map((row) => row.attempts).join(',')} attempts, e.g. "${failed[0]?.last_error}"); ` +
        `after SMTP came back the mails arrived in ${arrivals
          .map((a) => Math.round(a.ms))
          .sort((a, b) => a - b)
          .join(', ')} ms; attempts until sent ${sent.map((row) => row.attempts).join(',')}`,
    );

    for (const { to, mail } of arrivals) {
      expect(after.to(to)).toHaveLength(1);
      expect(before.to(to)).toHaveLength(0);
      expect(mail.text).toMatch(/\/(verify-email|reset-password)\?token=/);
    }
    for (const email of newcomers) {
      expect(after.to(email)[0]?.subject).toBe('Confirm your email address');
    }
    for (const user of forgetful) {
      expect(after.to(user.email)[0]?.subject).toBe('Reset your password');
    }
    expect(sent).toHaveLength(recipients.length);
    expect(before.to(early)).toHaveLength(1);
    expect(after.to(early)).toHaveLength(0);
  });
});
