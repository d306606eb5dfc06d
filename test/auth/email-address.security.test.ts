import { randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailOutbox, users } from '../../src/db/schema.js';
import { createMailTransport } from '../../src/mail/transport.js';
import { ensureAdmin } from '../../src/modules/rbac/bootstrap.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, STRONG_PASSWORD } from '../helpers/users.js';
import { expectProblem, GENEROUS_LIMITS, loginRequest, post, registerRequest } from './support.js';

/**
 * One mailbox, one account, one count (issue 12, finding 4): an address is accepted only in the
 * HTML standard's plain syntax and is used in its canonical form (NFKC, lower case, IDNA domain),
 * so spellings of one inbox can neither make a second account nor get past the mail cap.
 */

const MAIL_CAP = 5;
const LOGIN_FAILURES = 3;

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({
    env: {
      ...GENEROUS_LIMITS,
      RATE_LIMIT_MAILS_PER_EMAIL: String(MAIL_CAP),
      RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES),
    },
  });
});
afterAll(() => t.close());

/** `ｖ＠ｄ．ｅｘａｍｐｌｅ`: every printable ASCII character as its fullwidth compatibility twin. */
const fullwidth = (text: string) =>
  text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

const mailboxOf = (prefix: string) => {
  const local = `${prefix}-${randomBytes(4).toString('hex')}`;
  return { local, domain: 'd.example', address: `${local}@d.example` };
};

/** The spellings that name one inbox to a lenient parser but are not plain addresses. */
const REFUSED = (local: string, domain: string) => [
  `x<${local}@${domain}>`,
  `<${local}@${domain}>`,
  `Vee <${local}@${domain}>`,
  `"${local}"@${domain}`,
  `${local}@${domain}.`,
  `${local}(c)@${domain}`,
  `x,${local}@${domain}`,
  `${local}@${domain}\n`,
];
/** Spellings of the same address: accepted, and folded into it. */
const FOLDED = (local: string, domain: string) => [
  `${local.toUpperCase()}@${domain.toUpperCase()}`,
  fullwidth(`${local}@${domain}`),
  `  ${local}@${domain}  `,
];

const usersLike = (local: string) =>
  t.app.db
    .select()
    .from(users)
    .where(like(users.email, `%${local}%`));

describe('spellings of one mailbox', () => {
  it('each is refused with 400 or counts toward one mailbox, which gets at most the cap of mails', async () => {
    const { local, domain, address } = mailboxOf('v');
    const routes = ['/auth/register', '/auth/resend-verification', '/auth/forgot-password'];

    for (const url of routes) {
      for (const email of REFUSED(local, domain)) {
        const res =
          url === '/auth/register'
            ? await registerRequest(t, { email })
            : await post(t, url, { email });
        expectProblem(res, 400, 'validation_failed');
        expect(res.json().errors, email).toEqual([
          expect.objectContaining({ path: '/body/email' }),
        ]);
      }
      for (const email of FOLDED(local, domain)) {
        const res =
          url === '/auth/register'
            ? await registerRequest(t, { email })
            : await post(t, url, { email });
        expect([202, 429], `${url} ${email}`).toContain(res.statusCode);
      }
    }
    await t.app.jobs.runDue();

    const rows = await usersLike(local);
    expect(rows.map((row) => row.email)).toEqual([address]);
    const queued = await t.app.db
      .select()
      .from(mailOutbox)
      .where(like(mailOutbox.recipient, `%${local}%`));
    expect(new Set(queued.map((row) => row.recipient))).toEqual(new Set([address]));
    const delivered = t.mailbox.envelopeRecipients.filter((rcpt) => rcpt.includes(local));
    expect(new Set(delivered)).toEqual(new Set([address]));
    expect(delivered.length).toBeGreaterThanOrEqual(1);
    expect(delivered.length).toBeLessThanOrEqual(MAIL_CAP);
  });

  it('a fullwidth lookalike of an existing address is that account: no second row', async () => {
    const { address } = mailboxOf('owner');
    const owner = await createUser(t, ['homeowner'], { email: address, fullName: 'First Owner' });

    const res = await registerRequest(t, { email: fullwidth(address.toUpperCase()) });
    expect(res.statusCode).toBe(202);
    const mail = await t.mailbox.next(address);
    expect(mail.subject).toMatch(/already have/i);
    const rows = await t.app.db.select().from(users).where(eq(users.id, owner.id));
    expect(rows.map((row) => row.email)).toEqual([address]);
    expect(await usersLike(address.split('@')[0] as string)).toHaveLength(1);
  });

  it('an internationalised domain is stored in IDNA form, so its ASCII spelling is the same account', async () => {
    const local = `ann-${randomBytes(4).toString('hex')}`;
    expect((await registerRequest(t, { email: `${local}@Bücher.example` })).statusCode).toBe(202);
    expect((await registerRequest(t, { email: `${local}@xn--bcher-kva.example` })).statusCode).toBe(
      202,
    );
    const rows = await usersLike(local);
    expect(rows.map((row) => row.email)).toEqual([`${local}@xn--bcher-kva.example`]);
    await t.app.jobs.runDue();
    const queued = await t.app.db
      .select()
      .from(mailOutbox)
      .where(like(mailOutbox.recipient, `%${local}%`));
    expect(queued.map((row) => [row.recipient, row.template]).sort()).toEqual([
      [`${local}@xn--bcher-kva.example`, 'already_registered'],
      [`${local}@xn--bcher-kva.example`, 'verify_email'],
    ]);
    // smtp-server shows the envelope's IDNA domain decoded; the relay was given the ASCII form.
    const envelope = t.mailbox.envelopeRecipients.filter((rcpt) => rcpt.includes(local));
    expect(
      envelope.map((rcpt) => rcpt.replace(/@(.*)$/, (_, d) => `@${domainToASCII(d)}`)),
    ).toEqual([`${local}@xn--bcher-kva.example`, `${local}@xn--bcher-kva.example`]);
  });

  it.each(['root@localhost', 'v@127.0.0.1', 'v@0x7f.1'])(
    'registration refuses %s: mail to it would stay on the relay’s own host or network',
    async (email) => {
      const res = await registerRequest(t, { email });
      expectProblem(res, 400, 'validation_failed');
      expect(res.json().errors).toEqual([expect.objectContaining({ path: '/body/email' })]);
    },
  );
});

describe('signing in under another spelling', () => {
  it('works with other case, NFKC forms and surrounding spaces, in JSON and in the form', async () => {
    const user = await createUser(t, ['homeowner'], { email: mailboxOf('signin').address });
    for (const spelling of [user.email.toUpperCase(), fullwidth(user.email), ` ${user.email} `]) {
      expect((await loginRequest(t, spelling, user.password)).statusCode, spelling).toBe(200);
    }
    const form = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: fullwidth(user.email.toUpperCase()),
        password: user.password,
      }).toString(),
    });
    expect(form.statusCode).toBe(200);
  });

  it('failures under every spelling count toward one throttle', async () => {
    const user = await createUser(t, ['homeowner'], { email: mailboxOf('throttle').address });
    const spellings = [user.email.toUpperCase(), fullwidth(user.email), `  ${user.email}`];
    expect(spellings).toHaveLength(LOGIN_FAILURES);
    for (const spelling of spellings) {
      expectProblem(
        await loginRequest(t, spelling, 'a wrong password'),
        401,
        'invalid_credentials',
      );
    }
    expectProblem(await loginRequest(t, user.email, user.password), 429, 'rate_limited');
  });
});

describe('other ways in', () => {
  it('the admin email filter folds what is typed as addresses are folded', async () => {
    const admin = await createUser(t, ['admin']);
    const { headers } = await login(t, admin.email, admin.password);
    const { local, address } = mailboxOf('listed');
    await createUser(t, ['homeowner'], { email: address });
    const res = await t.app.inject({
      method: 'GET',
      url: `/admin/users?email=${encodeURIComponent(fullwidth(local.toUpperCase()))}`,
      headers,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((item: { email: string }) => item.email)).toEqual([address]);
  });

  it('the forgot-password page refuses what the API refuses and mails the canonical address', async () => {
    const user = await createUser(t, ['homeowner'], { email: mailboxOf('page').address });
    const submit = (email: string) =>
      t.app.inject({
        method: 'POST',
        url: '/forgot-password',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email }).toString(),
      });
    const refused = await submit(`x,${user.email}`);
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect((await submit(fullwidth(user.email.toUpperCase()))).statusCode).toBe(200);
    expect((await t.mailbox.next(user.email)).subject).toMatch(/reset/i);
    const queued = await t.app.db
      .select()
      .from(mailOutbox)
      .where(like(mailOutbox.recipient, `%${user.email.split('@')[0]}%`));
    expect(queued.map((row) => row.recipient)).toEqual([user.email]);
  });

  it('the bootstrap admin (ADMIN_EMAIL, create-admin) under another spelling is the same account', async () => {
    const existing = await createUser(t, ['homeowner'], { email: mailboxOf('boss').address });
    const outcome = await ensureAdmin(t.app.db, t.app.passwords, t.app.log, {
      email: fullwidth(existing.email.toUpperCase()),
      password: STRONG_PASSWORD,
    });
    expect(outcome).toBe('granted');
    expect(await usersLike(existing.email.split('@')[0] as string)).toHaveLength(1);
    await expect(
      ensureAdmin(t.app.db, t.app.passwords, t.app.log, {
        email: `Boss <${existing.email}>`,
        password: STRONG_PASSWORD,
      }),
    ).rejects.toThrow(/not a plain email address/);
  });
});

describe('the mailer', () => {
  it('sends to the one mailbox it is given, never to a list parsed out of a string', async () => {
    const transport = createMailTransport(t.config, t.app.log);
    const { address: plain } = mailboxOf('plain');
    const { address: hidden } = mailboxOf('hidden');
    const content = { subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' };
    try {
      await transport.send({ id: randomBytes(8).toString('hex'), to: plain, ...content });
      for (const to of [`x,${hidden}`, `x<${hidden}>`, `Someone <${hidden}>`]) {
        // Refused by the SMTP server or sent to the odd address as is: either way not to `hidden`.
        await transport
          .send({ id: randomBytes(8).toString('hex'), to, ...content })
          .catch(() => {});
      }
    } finally {
      transport.close();
    }
    expect(t.mailbox.envelopeRecipients).toContain(plain);
    expect(t.mailbox.envelopeRecipients).not.toContain(hidden);
  });
});
