import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OneTimeTokenPurpose, oneTimeTokens } from '../../src/db/schema.js';
import {
  type AccountEvent,
  issueOneTimeToken,
  VOIDED_BY,
} from '../../src/modules/auth/one-time-tokens.js';
import { ensureAdmin } from '../../src/modules/rbac/bootstrap.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { silentLogger } from '../helpers/logs.js';
import { enrolMfa } from '../helpers/mfa.js';
import { createUser, login, loginAs, type TestUser, uniqueEmail } from '../helpers/users.js';
import { changeLinks, confirmChange, revertChange } from '../users/email-change.support.js';
import {
  expectProblem,
  GENEROUS_LIMITS,
  oneTimeRows,
  post,
  registerAndReadToken,
  resetTokenFor,
} from './support.js';

/**
 * One-time tokens die with the reason they were issued for (SECURITY.md "one-time tokens
 * outliving their reason"). Every event of VOIDED_BY (src/modules/auth/one-time-tokens.ts) is
 * caused here through the API, with a live token of every kind outstanding; afterwards each token
 * must be refused if the table voids its kind, and still work if it does not. A new event in the
 * table fails to compile here until it has a trigger.
 */

const KINDS = ['verify_email', 'reset_password'] as const satisfies OneTimeTokenPurpose[];
type Kind = (typeof KINDS)[number];
const NEW_PASSWORD = 'an entirely new passphrase 9';

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t.close());

interface Subject {
  id: string;
  email: string;
  password: string;
  tokens: Record<Kind, string>;
}

async function adminCall(method: 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object) {
  const res = await t.app.inject({ method, url, headers: admin.headers, payload });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

/** A verified homeowner with a live verification token and a live reset token outstanding. */
async function subjectWithTokens(): Promise<Subject> {
  const user = await createUser(t, ['homeowner']);
  // A verification token as register or resend would issue it; the API issues none to a verified
  // account, but an account verified by a reset or a claim may still have one outstanding.
  const verify = await issueOneTimeToken(
    t.app.db,
    user.id,
    'verify_email',
    t.config.verifyTokenTtl,
    t.clock.now(),
  );
  const reset = await resetTokenFor(t, user.email);
  return { ...user, tokens: { verify_email: verify, reset_password: reset } };
}

const triggers: Record<AccountEvent, (subject: Subject) => Promise<void>> = {
  async password_changed(subject) {
    const session = await login(t, subject.email, subject.password);
    const res = await post(
      t,
      '/users/me/password',
      { currentPassword: subject.password, newPassword: NEW_PASSWORD },
      session.accessToken,
    );
    expect(res.statusCode, res.body).toBe(204);
  },
  async password_reset(subject) {
    // The reset token under test is the one used: it must not work a second time either.
    const res = await post(t, '/auth/reset-password', {
      token: subject.tokens.reset_password,
      newPassword: NEW_PASSWORD,
    });
    expect(res.statusCode, res.body).toBe(204);
  },
  async account_disabled(subject) {
    await adminCall('PATCH', `/admin/users/${subject.id}`, { isActive: false });
    // What matters is after it is enabled again: nothing issued before the disable works.
    await adminCall('PATCH', `/admin/users/${subject.id}`, { isActive: true });
  },
  async account_enabled(subject) {
    await adminCall('PATCH', `/admin/users/${subject.id}`, { isActive: false });
    // The disable voided what was outstanding; enabling must void nothing issued since.
    const issue = (kind: Kind) =>
      issueOneTimeToken(t.app.db, subject.id, kind, t.config.verifyTokenTtl, t.clock.now());
    subject.tokens = {
      verify_email: await issue('verify_email'),
      reset_password: await issue('reset_password'),
    };
    await adminCall('PATCH', `/admin/users/${subject.id}`, { isActive: true });
  },
  async role_granted(subject) {
    await adminCall('POST', `/admin/users/${subject.id}/roles`, { role: 'service_provider' });
  },
  async role_revoked(subject) {
    await adminCall('DELETE', `/admin/users/${subject.id}/roles/homeowner`);
  },
  async mfa_reset(subject) {
    await enrolMfa(t, await login(t, subject.email, subject.password));
    await adminCall('POST', `/admin/users/${subject.id}/mfa/reset`);
  },
  async email_changed(subject) {
    const session = await login(t, subject.email, subject.password);
    const links = await changeLinks(t, { ...subject, ...session }, uniqueEmail('moved'));
    const res = await confirmChange(t, links.confirm);
    expect(res.statusCode, res.body).toBe(200);
  },
  async email_change_reverted(subject) {
    const session = await login(t, subject.email, subject.password);
    const links = await changeLinks(t, { ...subject, ...session }, uniqueEmail('moved'));
    const res = await revertChange(t, links.revert);
    expect(res.statusCode, res.body).toBe(200);
  },
};

async function useToken(kind: Kind, token: string) {
  return kind === 'verify_email'
    ? post(t, '/auth/verify-email', { token })
    : post(t, '/auth/reset-password', { token, newPassword: 'yet another new passphrase 3' });
}

describe('each account event × each kind of one-time token', () => {
  const cells = (Object.keys(VOIDED_BY) as AccountEvent[]).flatMap((event) =>
    KINDS.map((kind) => ({
      event,
      kind,
      voided: (VOIDED_BY[event] as readonly string[]).includes(kind),
    })),
  );

  it.each(cells)('$event → a $kind token voided: $voided', async ({ event, kind, voided }) => {
    const subject = await subjectWithTokens();
    await triggers[event](subject);
    const res = await useToken(kind, subject.tokens[kind]);
    if (voided) {
      expectProblem(res, 400, 'invalid_token');
    } else {
      expect(res.statusCode, res.body).toBe(kind === 'verify_email' ? 200 : 204);
    }
  });

  it('the tokens of the kinds an event voids are marked used in the database, the others not', async () => {
    const subject = await subjectWithTokens();
    await triggers.role_granted(subject);
    const rows = await oneTimeRows(t, subject.id);
    const live = rows.filter((row) => row.consumedAt === null).map((row) => row.purpose);
    expect(live).toEqual(['verify_email']);
  });
});

describe('events outside the table', () => {
  it('deleting the account deletes its tokens: none of them works, no row is left', async () => {
    const subject = await subjectWithTokens();
    const session = await login(t, subject.email, subject.password);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: session.headers,
      payload: { password: subject.password },
    });
    expect(res.statusCode, res.body).toBe(204);
    for (const kind of KINDS) {
      expectProblem(await useToken(kind, subject.tokens[kind]), 400, 'invalid_token');
    }
    expect(
      await t.app.db.select().from(oneTimeTokens).where(eq(oneTimeTokens.userId, subject.id)),
    ).toEqual([]);
  });

  it('a disabled account’s links do not work while it is disabled either', async () => {
    const subject = await subjectWithTokens();
    await adminCall('PATCH', `/admin/users/${subject.id}`, { isActive: false });
    for (const kind of KINDS) {
      expectProblem(await useToken(kind, subject.tokens[kind]), 400, 'invalid_token');
    }
  });

  it('the bootstrap admin claiming an unverified account voids the squatter’s links', async () => {
    const { email, token: verifyToken } = await registerAndReadToken(t);
    const resetToken = await resetTokenFor(t, email);
    const outcome = await ensureAdmin(t.app.db, t.app.passwords, silentLogger(), {
      email,
      password: 'the operator’s own admin passphrase',
    });
    expect(outcome).toBe('claimed');
    expectProblem(await useToken('verify_email', verifyToken), 400, 'invalid_token');
    expectProblem(await useToken('reset_password', resetToken), 400, 'invalid_token');
  });
});
