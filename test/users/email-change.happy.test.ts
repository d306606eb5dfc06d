import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailChanges, users } from '../../src/db/schema.js';
import {
  auditRows,
  expectProblem,
  expectUnauthorized,
  GENEROUS_LIMITS,
  loginRequest,
  me,
  post,
} from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { createUser, login, uniqueEmail } from '../helpers/users.js';
import {
  changeLinks,
  confirmChange,
  mailTo,
  NOTICE_SUBJECT,
  REVERTED_SUBJECT,
  requestEmailChange,
  revertChange,
} from './email-change.support.js';

/**
 * POST /users/me/email, then the link to the new address (confirm) or the one to the old address
 * (revert), with real mails through the test SMTP server.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

async function signedIn() {
  const user = await createUser(t, ['homeowner'], { fullName: 'Jane Mover' });
  return { ...user, ...(await login(t, user.email, user.password)) };
}

const emailOf = async (id: string) =>
  (await t.app.db.select().from(users).where(eq(users.id, id)))[0]?.email;

describe('requesting a change', () => {
  it('202; the old address gets a notice with a revert link, the new one a confirmation link; nothing changes yet', async () => {
    const jane = await signedIn();
    const newEmail = uniqueEmail('new');
    const res = await requestEmailChange(t, jane.accessToken, jane.password, newEmail);
    expect(res.statusCode, res.body).toBe(202);

    const notice = await mailTo(t, jane.email, NOTICE_SUBJECT);
    expect(notice.text).toContain(newEmail);
    expect(notice.text).toMatch(/\/revert-email-change\?token=/);
    expect(notice.text).toContain('7 days');
    const confirm = await t.mailbox.next(newEmail);
    expect(confirm.text).toMatch(/\/confirm-email-change\?token=/);
    expect(confirm.text).toContain('24 hours');

    expect(await emailOf(jane.id)).toBe(jane.email);
    expect((await me(t, jane.accessToken)).json().email).toBe(jane.email);
    expect((await loginRequest(t, jane.email, jane.password)).statusCode).toBe(200);
    const [audit] = (await auditRows(t, 'user.email_change_requested')).filter(
      (row) => row.subjectId === jane.id,
    );
    expect(audit?.data).toMatchObject({ newEmail, addressTaken: false });
  });

  it('the new address is stored canonical: any spelling of it is the same mailbox', async () => {
    const jane = await signedIn();
    const local = `mixed-${Date.now()}`;
    const { confirm } = await (async () => {
      const res = await requestEmailChange(
        t,
        jane.accessToken,
        jane.password,
        `  ${local.toUpperCase()}@ＥＸＡＭＰＬＥ.com `,
      );
      expect(res.statusCode, res.body).toBe(202);
      return { confirm: tokenFrom(await t.mailbox.next(`${local}@example.com`)) };
    })();
    expect((await confirmChange(t, confirm)).statusCode).toBe(200);
    expect(await emailOf(jane.id)).toBe(`${local}@example.com`);
  });
});

describe('confirming', () => {
  it('200; the account moves to the new address (verified); sign-in works there, not at the old one', async () => {
    const jane = await signedIn();
    const newEmail = uniqueEmail('moved');
    const links = await changeLinks(t, jane, newEmail);

    const res = await confirmChange(t, links.confirm);
    expect(res.statusCode, res.body).toBe(200);
    const [row] = await t.app.db.select().from(users).where(eq(users.id, jane.id));
    expect(row).toMatchObject({ email: newEmail, emailVerified: true });
    expect((await loginRequest(t, newEmail, jane.password)).statusCode).toBe(200);
    expectProblem(await loginRequest(t, jane.email, jane.password), 401, 'invalid_credentials');
    // The session that asked keeps working.
    expect((await me(t, jane.accessToken)).json().email).toBe(newEmail);

    const [change] = await t.app.db
      .select()
      .from(emailChanges)
      .where(eq(emailChanges.userId, jane.id));
    expect(change?.confirmedAt).toBeInstanceOf(Date);
    const [audit] = (await auditRows(t, 'user.email_changed')).filter(
      (r) => r.subjectId === jane.id,
    );
    expect(audit?.data).toMatchObject({ from: jane.email, to: newEmail });
  });

  it('the link works once', async () => {
    const jane = await signedIn();
    const links = await changeLinks(t, jane, uniqueEmail('once'));
    expect((await confirmChange(t, links.confirm)).statusCode).toBe(200);
    expectProblem(await confirmChange(t, links.confirm), 400, 'invalid_token');
  });

  it('a newer request voids the older confirmation link, not its revert link', async () => {
    const jane = await signedIn();
    const first = await changeLinks(t, jane, uniqueEmail('first'));
    const second = await changeLinks(t, jane, uniqueEmail('second'));
    expectProblem(await confirmChange(t, first.confirm), 400, 'invalid_token');
    expect((await confirmChange(t, second.confirm)).statusCode).toBe(200);
    expect((await revertChange(t, first.revert)).statusCode).toBe(200);
    expect(await emailOf(jane.id)).toBe(jane.email);
  });

  it('the confirmation link expires after 24 hours', async () => {
    const jane = await signedIn();
    const links = await changeLinks(t, jane, uniqueEmail('late'));
    t.clock.advance(24 * 3600 + 1);
    expectProblem(await confirmChange(t, links.confirm), 400, 'invalid_token');
    expect(await emailOf(jane.id)).toBe(jane.email);
  });
});

describe('"this wasn\'t me": reverting', () => {
  it('after confirmation: the old address is back, every session is revoked, the password is replaced and a reset link arrives', async () => {
    const jane = await signedIn();
    const other = await login(t, jane.email, jane.password);
    const newEmail = uniqueEmail('hijack');
    const links = await changeLinks(t, jane, newEmail);
    expect((await confirmChange(t, links.confirm)).statusCode).toBe(200);

    const res = await revertChange(t, links.revert);
    expect(res.statusCode, res.body).toBe(200);
    expect(await emailOf(jane.id)).toBe(jane.email);
    expectUnauthorized(await me(t, jane.accessToken));
    expectUnauthorized(await me(t, other.accessToken));
    expectProblem(await loginRequest(t, jane.email, jane.password), 401, 'invalid_credentials');
    expectProblem(await loginRequest(t, newEmail, jane.password), 401, 'invalid_credentials');

    const reset = tokenFrom(await mailTo(t, jane.email, REVERTED_SUBJECT));
    const newPassword = 'my own passphrase again 77';
    const done = await post(t, '/auth/reset-password', { token: reset, newPassword });
    expect(done.statusCode, done.body).toBe(204);
    expect((await loginRequest(t, jane.email, newPassword)).statusCode).toBe(200);

    const [audit] = (await auditRows(t, 'user.email_change_reverted')).filter(
      (r) => r.subjectId === jane.id,
    );
    expect(audit?.data).toMatchObject({ addressRestored: true, wasConfirmed: true });
    expect(Number(audit?.data.sessionsRevoked)).toBeGreaterThanOrEqual(2);
  });

  it('before confirmation: the pending change is cancelled (its confirmation link dies)', async () => {
    const jane = await signedIn();
    const links = await changeLinks(t, jane, uniqueEmail('pending'));
    expect((await revertChange(t, links.revert)).statusCode).toBe(200);
    expectProblem(await confirmChange(t, links.confirm), 400, 'invalid_token');
    expect(await emailOf(jane.id)).toBe(jane.email);
    expectUnauthorized(await me(t, jane.accessToken));
  });

  it('undoes a chain: the hijacker moved the account twice, the first notice still restores it', async () => {
    const jane = await signedIn();
    const first = await changeLinks(t, jane, uniqueEmail('hop1'));
    expect((await confirmChange(t, first.confirm)).statusCode).toBe(200);
    const hop1 = (await me(t, jane.accessToken)).json().email as string;
    const second = await changeLinks(t, { ...jane, email: hop1 }, uniqueEmail('hop2'));
    expect((await confirmChange(t, second.confirm)).statusCode).toBe(200);

    expect((await revertChange(t, first.revert)).statusCode).toBe(200);
    expect(await emailOf(jane.id)).toBe(jane.email);
  });

  it('the revert link works for 7 days, once', async () => {
    const jane = await signedIn();
    const links = await changeLinks(t, jane, uniqueEmail('week'));
    expect((await confirmChange(t, links.confirm)).statusCode).toBe(200);
    t.clock.advance(7 * 86_400 - 60);
    expect((await revertChange(t, links.revert)).statusCode).toBe(200);
    expectProblem(await revertChange(t, links.revert), 400, 'invalid_token');

    const late = await signedIn();
    const expired = await changeLinks(t, late, uniqueEmail('late'));
    t.clock.advance(7 * 86_400 + 1);
    expectProblem(await revertChange(t, expired.revert), 400, 'invalid_token');
  });
});

describe('the pages the two links open (no front end)', () => {
  const form = (url: string, token: string) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}`,
    });

  it('GET shows a button and uses nothing up; the form POST confirms, then the other one reverts', async () => {
    const jane = await signedIn();
    const newEmail = uniqueEmail('page');
    const links = await changeLinks(t, jane, newEmail);

    for (const [path, token] of [
      ['/confirm-email-change', links.confirm],
      ['/revert-email-change', links.revert],
    ] as const) {
      const shown = await t.app.inject({ method: 'GET', url: `${path}?token=${token}` });
      expect(shown.statusCode).toBe(200);
      expect(shown.headers['content-type']).toMatch(/^text\/html/);
      expect(shown.body).toContain(`action="${path.slice(1)}"`);
    }
    expect(await emailOf(jane.id)).toBe(jane.email);

    const confirmed = await form('/confirm-email-change', links.confirm);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.body).toContain('Your email address is changed');
    expect(await emailOf(jane.id)).toBe(newEmail);
    const again = await form('/confirm-email-change', links.confirm);
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('This link no longer works');

    const reverted = await form('/revert-email-change', links.revert);
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(await emailOf(jane.id)).toBe(jane.email);
  });

  it('a damaged link is a 400 page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/revert-email-change?token=short' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });
});
