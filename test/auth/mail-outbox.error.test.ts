import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { uniqueEmail } from '../helpers/users.js';
import { GENEROUS_LIMITS, outboxRows, post, registerRequest } from './support.js';

/**
 * SMTP down: the request still succeeds, the mail waits in the database outbox (sealed, as it
 * carries a live token) and its mail.deliver job retries it with backoff until SMTP is back; it
 * is delivered once. Backoff runs on the injected clock, so the test moves the clock instead of
 * waiting.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('SMTP down, then up', () => {
  it('register succeeds, the mail is retried and arrives exactly once', async () => {
    const port = t.mailbox.port;
    await t.mailbox.stop();
    const email = uniqueEmail('outage');

    const res = await registerRequest(t, { email });
    expect(res.statusCode).toBe(202);
    await t.app.jobs.runDue();

    const [pending] = await outboxRows(t, email);
    expect(pending).toMatchObject({ status: 'pending', template: 'verify_email', sentAt: null });
    expect(pending!.attempts).toBeGreaterThanOrEqual(1);
    expect(pending!.lastError).toBeTruthy();
    const [job] = await deliveryJob(pending!.id);
    expect(job).toMatchObject({ state: 'pending', attempts: pending!.attempts });
    expect(job!.runAt.getTime()).toBeGreaterThan(t.clock.now().getTime());
    // The queued body is sealed: neither a link nor the greeting is readable in the row.
    expect(pending!.payload).toBeTruthy();
    expect(pending!.payload).not.toMatch(/verify-email|token=|Hello/);
    expect(t.app.mail.sealer.open(pending!.payload!).link).toMatch(/verify-email\?token=/);

    // Still down: a pass before the backoff is due does not even try.
    await t.app.jobs.runDue();
    expect((await outboxRows(t, email))[0]?.attempts).toBe(pending!.attempts);

    // SMTP comes back on the same port.
    await t.mailbox.start(port);
    t.clock.advance(3600);
    await t.app.jobs.runDue();

    const mail = await t.mailbox.next(email);
    expect(mail.subject).toMatch(/confirm your email/i);
    const token = tokenFrom(mail);
    expect(pending!.payload).not.toContain(token);

    await t.app.jobs.runDue();
    expect(t.mailbox.to(email)).toHaveLength(1);
    const [sent] = await outboxRows(t, email);
    expect(sent).toMatchObject({ status: 'sent', payload: null, lastError: null });
    expect(sent!.attempts).toBe(pending!.attempts + 1);
    expect((await deliveryJob(sent!.id))[0]).toMatchObject({ state: 'done', lastError: null });

    // The delayed link still works.
    expect((await post(t, '/auth/verify-email', { token })).statusCode).toBe(200);
  });
});

function deliveryJob(mailId: string) {
  return t.app.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.name, 'mail.deliver'), eq(jobs.key, mailId)));
}
