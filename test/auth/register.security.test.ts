import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import {
  auditRows,
  bodyWithoutRequestId,
  GENEROUS_LIMITS,
  loginRequest,
  outboxRows,
  outboxRowsOf,
  registerRequest,
  userRow,
} from './support.js';

/**
 * Registration reveals nothing about which emails have accounts: the answer is the same, and only
 * the mailbox owner learns the difference. Concurrent sign-ups of one email make one account.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('no account enumeration through POST /auth/register', () => {
  it('a new and a taken email get the same status, headers of note and body, byte for byte', async () => {
    const taken = await createUser(t, ['homeowner'], { fullName: 'Existing Owner' });
    const fresh = uniqueEmail('fresh');

    const forTaken = await registerRequest(t, { email: taken.email, fullName: 'Someone Else' });
    const forFresh = await registerRequest(t, { email: fresh, fullName: 'Someone Else' });

    expect(forTaken.statusCode).toBe(202);
    expect(forFresh.statusCode).toBe(202);
    expect(bodyWithoutRequestId(forTaken)).toBe(bodyWithoutRequestId(forFresh));
    expect(forTaken.headers['content-type']).toBe(forFresh.headers['content-type']);
    expect(forTaken.headers['cache-control']).toBe(forFresh.headers['cache-control']);
  });

  it('the taken email gets exactly one "already have an account" mail, and no new token', async () => {
    const taken = await createUser(t, ['homeowner'], { fullName: 'Existing Owner' });
    const before = await userRow(t, taken.email);
    await registerRequest(t, { email: taken.email.toUpperCase(), fullName: 'Intruder' });

    const mail = await t.mailbox.next(taken.email);
    expect(mail.subject).toMatch(/already have/i);
    expect(mail.text).toContain('Hello Existing Owner,');
    expect(mail.text).not.toMatch(/token=/);
    await t.app.jobs.runDue();
    expect(t.mailbox.to(taken.email)).toHaveLength(1);
    expect(await outboxRows(t, taken.email)).toHaveLength(1);

    // The account is untouched: same name, same password, still signs in.
    const after = await userRow(t, taken.email);
    expect(after).toEqual(before);
    expect((await loginRequest(t, taken.email, taken.password)).statusCode).toBe(200);
    const events = await auditRows(t, 'user.register_existing_email');
    expect(events.some((event) => event.subjectId === before!.id)).toBe(true);
  });

  it('the new email gets exactly one verification mail', async () => {
    const fresh = uniqueEmail('fresh');
    await registerRequest(t, { email: fresh });
    const mail = await t.mailbox.next(fresh);
    expect(mail.subject).toMatch(/confirm your email/i);
    await t.app.jobs.runDue();
    expect(t.mailbox.to(fresh)).toHaveLength(1);
    expect(await outboxRowsOf(t, fresh, 'verify_email')).toHaveLength(1);
  });

  it('a taken email with a weak password is refused exactly like a new one', async () => {
    const taken = await createUser(t);
    const forTaken = await registerRequest(t, { email: taken.email, password: 'password123' });
    const forFresh = await registerRequest(t, {
      email: uniqueEmail('fresh'),
      password: 'password123',
    });
    expect(forTaken.statusCode).toBe(400);
    expect(bodyWithoutRequestId(forTaken)).toBe(bodyWithoutRequestId(forFresh));
    expect(await outboxRows(t, taken.email)).toHaveLength(0);
  });
});

describe('concurrent registrations of one email', () => {
  it('20 at once with case variants: all 202, exactly one account, no 5xx', async () => {
    const email = uniqueEmail('race');
    const [local, domain] = email.split('@') as [string, string];
    const variants = Array.from({ length: 20 }, (_, i) => {
      if (i % 4 === 1) return email.toUpperCase();
      if (i % 4 === 2) return `${local.toUpperCase()}@${domain}`;
      if (i % 4 === 3) return `  ${local}@${domain.toUpperCase()} `;
      return email;
    });
    const answers = await Promise.all(
      variants.map((variant) => registerRequest(t, { email: variant, password: STRONG_PASSWORD })),
    );
    expect(answers.map((res) => res.statusCode)).toEqual(Array(20).fill(202));

    const rows = await t.app.db
      .select({ id: users.id })
      .from(users)
      .where(sql`lower(${users.email}) = ${email}`);
    expect(rows).toHaveLength(1);
    // One verification mail; every other attempt told the owner the account exists.
    expect(await outboxRowsOf(t, email, 'verify_email')).toHaveLength(1);
    expect(await outboxRowsOf(t, email, 'already_registered')).toHaveLength(19);
  });
});
