import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailChanges, users } from '../../src/db/schema.js';
import {
  bodyWithoutRequestId,
  expectProblem,
  GENEROUS_LIMITS,
  outboxRowsOf,
} from '../auth/support.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, uniqueEmail } from '../helpers/users.js';
import {
  changeLinks,
  confirmChange,
  mailTo,
  NOTICE_SUBJECT,
  requestEmailChange,
  TAKEN_SUBJECT,
} from './email-change.support.js';

/**
 * Account takeover by email change (SECURITY.md): the old password alone never moves the account,
 * a taken address is not revealed at request time and is re-checked at confirmation, and
 * concurrent confirmations leave one owner.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

async function signedIn() {
  const user = await createUser(t);
  return { ...user, ...(await login(t, user.email, user.password)) };
}

const emailOf = async (id: string) =>
  (await t.app.db.select().from(users).where(eq(users.id, id)))[0]?.email;

describe('who can change the address', () => {
  it('a wrong password is 400 and nothing is recorded or mailed', async () => {
    const jane = await signedIn();
    const newEmail = uniqueEmail('nope');
    const res = await requestEmailChange(t, jane.accessToken, 'not the password', newEmail);
    expectProblem(res, 400, 'validation_failed');
    expect(
      await t.app.db.select().from(emailChanges).where(eq(emailChanges.userId, jane.id)),
    ).toEqual([]);
    expect(await outboxRowsOf(t, newEmail, 'email_change_confirm')).toEqual([]);
  });

  it('the password without the new inbox changes nothing: no guessed or forged link confirms', async () => {
    const jane = await signedIn();
    await changeLinks(t, jane, uniqueEmail('inbox'));
    for (const token of ['A'.repeat(43), 'hQ4x2Zr7mK9pLw3sTn8vYb5cJd6fGe1a']) {
      expectProblem(await confirmChange(t, token), 400, 'invalid_token');
    }
    expect(await emailOf(jane.id)).toBe(jane.email);
  });

  it('the revert link does not confirm, nor the confirmation link revert', async () => {
    const jane = await signedIn();
    const links = await changeLinks(t, jane, uniqueEmail('swap'));
    expectProblem(await confirmChange(t, links.revert), 400, 'invalid_token');
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/email/revert',
      payload: { token: links.confirm },
    });
    expectProblem(res, 400, 'invalid_token');
  });

  it('the current address, an address without an internet domain, unknown fields: 400', async () => {
    const jane = await signedIn();
    expectProblem(
      await requestEmailChange(t, jane.accessToken, jane.password, jane.email.toUpperCase()),
      400,
      'validation_failed',
    );
    expectProblem(
      await requestEmailChange(t, jane.accessToken, jane.password, 'root@localhost'),
      400,
      'validation_failed',
    );
    const res = await t.app.inject({
      method: 'POST',
      url: '/users/me/email',
      headers: jane.headers,
      payload: { password: jane.password, newEmail: uniqueEmail(), emailVerified: true },
    });
    expectProblem(res, 400, 'validation_failed');
  });
});

describe('a taken address', () => {
  it('gets the same answer as a free one; its holder gets a notice without a link; the old address its notice', async () => {
    const holder = await createUser(t);
    const jane = await signedIn();
    const free = await requestEmailChange(t, jane.accessToken, jane.password, uniqueEmail('free'));
    const taken = await requestEmailChange(
      t,
      jane.accessToken,
      jane.password,
      holder.email.toUpperCase(),
    );
    expect(taken.statusCode).toBe(free.statusCode);
    expect(bodyWithoutRequestId(taken)).toBe(bodyWithoutRequestId(free));

    const notice = await mailTo(t, holder.email, TAKEN_SUBJECT);
    expect(notice.text).not.toMatch(/token=/);
    expect(await outboxRowsOf(t, holder.email, 'email_change_confirm')).toEqual([]);
    await mailTo(t, jane.email, NOTICE_SUBJECT);
    await mailTo(t, jane.email, NOTICE_SUBJECT);
    expect(await emailOf(holder.id)).toBe(holder.email);
    expect(await emailOf(jane.id)).toBe(jane.email);
  });

  it('taken meanwhile: 409 at confirmation, nothing changes', async () => {
    const jane = await signedIn();
    const target = uniqueEmail('contested');
    const links = await changeLinks(t, jane, target);
    const squatter = await signedIn();
    const theirs = await changeLinks(t, squatter, target);
    expect((await confirmChange(t, theirs.confirm)).statusCode).toBe(200);

    expectProblem(await confirmChange(t, links.confirm), 409, 'conflict');
    expect(await emailOf(jane.id)).toBe(jane.email);
    expect(await emailOf(squatter.id)).toBe(target);
  });

  it('20 concurrent confirmations of one address by 20 accounts leave exactly one owner', async () => {
    const target = uniqueEmail('race');
    const contenders = await Promise.all(Array.from({ length: 20 }, () => signedIn()));
    const links: string[] = [];
    for (const contender of contenders) {
      links.push((await changeLinks(t, contender, target)).confirm);
    }
    const results = await Promise.all(links.map((token) => confirmChange(t, token)));
    const statuses = results.map((res) => res.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const res of results.filter((r) => r.statusCode === 409)) {
      expectProblem(res, 409, 'conflict');
    }
    const owners = await t.app.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.email, target));
    expect(owners).toHaveLength(1);
    const rest = await t.app.db
      .select({ email: users.email })
      .from(users)
      .where(
        inArray(
          users.id,
          contenders.map((c) => c.id).filter((id) => id !== owners[0]?.id),
        ),
      );
    expect(rest.map((r) => r.email).sort()).toEqual(
      contenders
        .filter((c) => c.id !== owners[0]?.id)
        .map((c) => c.email)
        .sort(),
    );
  });
});
