import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type OneTimeTokenPurpose, oneTimeTokens } from '../../db/schema.js';
import { newOpaqueToken, sha256 } from './tokens.js';

/** Issues a verification or reset token; any older unused one of the same purpose is voided. */
export async function issueOneTimeToken(
  tx: Db,
  userId: string,
  purpose: OneTimeTokenPurpose,
  ttlSeconds: number,
  now: Date,
): Promise<string> {
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
  const token = newOpaqueToken();
  await tx.insert(oneTimeTokens).values({
    userId,
    purpose,
    tokenHash: sha256(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
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
