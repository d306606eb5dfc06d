import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { uniqueEmail } from '../helpers/users.js';
import { GENEROUS_LIMITS, outboxRows, post, registerRequest } from './support.js';

/**
 * SMTP down: the request still succeeds, the mail waits in the database outbox (sealed, as it
 * carries a live token) and is delivered, once, with retries when SMTP is back. Backoff runs on
 * the injected clock, so the test moves the clock instead of waiting.
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
    await t.app.mail.worker.wake();

    const [pending] = await outboxRows(t, email);
    expect(pending).toMatchObject({ status: 'pending', template: 'verify_email', sentAt: null });
    expect(pending!.attempts).toBeGreaterThanOrEqual(1);
    expect(pending!.lastError).toBeTruthy();
    expect(pending!.nextAttemptAt.getTime()).toBeGreaterThan(t.clock.now().getTime());
    // The queued body is sealed: neither a link nor the greeting is readable in the row.
    expect(pending!.payload).toBeTruthy();
    expect(pending!.payload).not.toMatch(/verify-email|token=|Hello/);
    expect(t.app.mail.sealer.open(pending!.payload!).link).toMatch(/verify-email\?token=/);

    // Still down: a pass before the backoff is due does not even try.
    await t.app.mail.worker.wake();
    expect((await outboxRows(t, email))[0]?.attempts).toBe(pending!.attempts);

    // SMTP comes back on the same port.
    await t.mailbox.start(port);
    t.clock.advance(3600);
    await t.app.mail.worker.wake();

    const mail = await t.mailbox.next(email);
    expect(mail.subject).toMatch(/confirm your email/i);
    const token = tokenFrom(mail);
    expect(pending!.payload).not.toContain(token);

    await t.app.mail.worker.wake();
    expect(t.mailbox.to(email)).toHaveLength(1);
    const [sent] = await outboxRows(t, email);
    expect(sent).toMatchObject({ status: 'sent', payload: null, lastError: null });
    expect(sent!.attempts).toBe(pending!.attempts + 1);

    // The delayed link still works.
    expect((await post(t, '/auth/verify-email', { token })).statusCode).toBe(200);
  });
});
