import { and, eq, gt, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type OneTimeTokenPurpose, oneTimeTokens } from '../../db/schema.js';
import { newOpaqueToken, sha256 } from './tokens.js';

/**
 * The events of an account that void its outstanding one-time tokens, and which kinds each voids.
 * The one place this rule lives: a flow that causes one of these events calls
 * voidOneTimeTokens(tx, userId, event, now) in its transaction. Issue 18 adds email change
 * (both kinds: they were sent to, or prove, the old address) and MFA reset here.
 *
 * - email changed (confirmed): a reset or verification link went to the old address, which no
 *   longer names the account. A pending change's confirmation link goes too (one change at a
 *   time); the revert links stay: they are how the old address undoes a hijack.
 * - email change reverted ("this wasn't me"): everything outstanding but the reset link the revert
 *   itself mails, which is issued after.
 *
 * - password changed or reset, or replaced by an operator (bootstrap claim): a reset link
 *   asked for earlier must not set the password again behind the new one, and a verification
 *   link is moot (a signed-in or reset account has proven its mailbox).
 * - account disabled: nothing issued before must work once it is enabled again; the owner asks
 *   for a new link then.
 * - role granted: a reset link asked for by a lesser account must not become a way into a more
 *   powerful one. Verification proves the mailbox, which a role does not change: kept.
 * - role revoked, account enabled: nothing is voided (the account can do less, or nothing was
 *   outstanding).
 * - MFA reset by an admin: links issued while the account's second factor may have been in
 *   someone else's hands are not honoured after it (the sign-in challenges go too, in modules/mfa).
 * - account deleted: the tokens go with the account (foreign key, on delete cascade).
 * - a token used, or a newer one of its kind issued: older ones of that kind are voided by
 *   consumeOneTimeToken / issueOneTimeToken themselves.
 */
export const VOIDED_BY = {
  password_changed: ['reset_password', 'verify_email'],
  password_reset: ['reset_password', 'verify_email'],
  account_disabled: ['reset_password', 'verify_email'],
  role_granted: ['reset_password'],
  role_revoked: [],
  account_enabled: [],
  mfa_reset: ['reset_password', 'verify_email'],
  email_changed: ['reset_password', 'verify_email', 'confirm_email_change'],
  email_change_reverted: ['reset_password', 'verify_email', 'confirm_email_change'],
} as const satisfies Record<string, readonly OneTimeTokenPurpose[]>;

export type AccountEvent = keyof typeof VOIDED_BY;

/** Voids the user's unused tokens of the kinds `event` voids; returns how many. */
export async function voidOneTimeTokens(
  tx: Db,
  userId: string,
  event: AccountEvent,
  now: Date,
): Promise<number> {
  const purposes: readonly OneTimeTokenPurpose[] = VOIDED_BY[event];
  if (purposes.length === 0) return 0;
  const rows = await tx
    .update(oneTimeTokens)
    .set({ consumedAt: now })
    .where(
      and(
        eq(oneTimeTokens.userId, userId),
        inArray(oneTimeTokens.purpose, [...purposes]),
        isNull(oneTimeTokens.consumedAt),
      ),
    )
    .returning({ id: oneTimeTokens.id });
  return rows.length;
}

/**
 * Purposes of which several may be live at once: each revert link undoes its own email change,
 * and a later change (perhaps the hijacker's) must not void the one the rightful owner holds.
 */
const KEPT_WHEN_REISSUED: readonly OneTimeTokenPurpose[] = ['revert_email_change'];

/**
 * Issues a one-time token; any older unused one of the same purpose is voided (except revert
 * links). `emailChangeId` ties an email-change link to its request.
 */
export async function issueOneTimeToken(
  tx: Db,
  userId: string,
  purpose: OneTimeTokenPurpose,
  ttlSeconds: number,
  now: Date,
  emailChangeId?: string,
): Promise<string> {
  if (!KEPT_WHEN_REISSUED.includes(purpose)) {
    await tx
      .update(oneTimeTokens)
      .set({ consumedAt: now })
      .where(
        and(
          eq(oneTimeTokens.userId, userId),
          eq(oneTimeTokens.purpose, purpose),
          isNull(oneTimeTokens.consumedAt),
        ),
      );
  }
  const token = newOpaqueToken();
  await tx.insert(oneTimeTokens).values({
    userId,
    purpose,
    tokenHash: sha256(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
    emailChangeId: emailChangeId ?? null,
  });
  return token;
}

/**
 * Uses a token once: a conditional update, so two concurrent uses cannot both succeed.
 * Returns the user it belongs to, or undefined for an unknown, used, voided or expired token.
 */
export async function consumeOneTimeToken(
  tx: Db,
  token: string,
  purpose: OneTimeTokenPurpose,
  now: Date,
): Promise<string | undefined> {
  const [row] = await tx
    .update(oneTimeTokens)
    .set({ consumedAt: now })
    .where(
      and(
        eq(oneTimeTokens.tokenHash, sha256(token)),
        eq(oneTimeTokens.purpose, purpose),
        isNull(oneTimeTokens.consumedAt),
        gt(oneTimeTokens.expiresAt, now),
      ),
    )
    .returning({ userId: oneTimeTokens.userId });
  return row?.userId;
}

/** consumeOneTimeToken for an email-change link: the user and the change it is about. */
export async function consumeEmailChangeToken(
  tx: Db,
  token: string,
  purpose: 'confirm_email_change' | 'revert_email_change',
  now: Date,
): Promise<{ userId: string; emailChangeId: string } | undefined> {
  const [row] = await tx
    .update(oneTimeTokens)
    .set({ consumedAt: now })
    .where(
      and(
        eq(oneTimeTokens.tokenHash, sha256(token)),
        eq(oneTimeTokens.purpose, purpose),
        isNull(oneTimeTokens.consumedAt),
        gt(oneTimeTokens.expiresAt, now),
      ),
    )
    .returning({ userId: oneTimeTokens.userId, emailChangeId: oneTimeTokens.emailChangeId });
  if (!row?.emailChangeId) return undefined;
  return { userId: row.userId, emailChangeId: row.emailChangeId };
}
