import { and, count, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { mfaChallenges, mfaRecoveryCodes, mfaTotp } from '../../db/schema.js';
import { newOpaqueToken, sha256 } from '../auth/tokens.js';

/** The only writer of mfa_totp, mfa_recovery_codes and mfa_challenges. */

export async function findTotp(db: Db, userId: string) {
  const [row] = await db.select().from(mfaTotp).where(eq(mfaTotp.userId, userId));
  return row;
}

export async function hasConfirmedTotp(db: Db, userId: string): Promise<boolean> {
  const row = await findTotp(db, userId);
  return Boolean(row?.confirmedAt);
}

/** A new pending authenticator, replacing a pending one; a confirmed one is left alone (false). */
export async function startTotpEnrolment(
  tx: Db,
  userId: string,
  sealedSecret: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .insert(mfaTotp)
    .values({ userId, secret: sealedSecret, createdAt: now })
    .onConflictDoUpdate({
      target: mfaTotp.userId,
      set: { secret: sealedSecret, createdAt: now, lastUsedStep: null },
      setWhere: isNull(mfaTotp.confirmedAt),
    })
    .returning({ userId: mfaTotp.userId });
  return rows.length > 0;
}

/**
 * Spends a code's step: succeeds only if no code of that step or a later one was accepted before
 * (a compare-and-set, so two requests with one code cannot both pass). `confirm` also marks a
 * pending authenticator confirmed; otherwise the authenticator must be confirmed already.
 */
export async function spendTotpStep(
  tx: Db,
  userId: string,
  step: number,
  now: Date,
  confirm = false,
): Promise<boolean> {
  const rows = await tx
    .update(mfaTotp)
    .set({ lastUsedStep: step, ...(confirm ? { confirmedAt: now } : {}) })
    .where(
      and(
        eq(mfaTotp.userId, userId),
        confirm ? isNull(mfaTotp.confirmedAt) : isNotNull(mfaTotp.confirmedAt),
        or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step)),
      ),
    )
    .returning({ userId: mfaTotp.userId });
  return rows.length > 0;
}

/** Removes the authenticator and its recovery codes, and voids open sign-in challenges. */
export async function deleteMfa(tx: Db, userId: string, now: Date): Promise<boolean> {
  const removed = await tx
    .delete(mfaTotp)
    .where(eq(mfaTotp.userId, userId))
    .returning({ userId: mfaTotp.userId });
  await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
  await voidChallenges(tx, userId, now);
  return removed.length > 0;
}

/** Replaces the user's recovery codes with these (hashes of their normal form). */
export async function replaceRecoveryCodes(
  tx: Db,
  userId: string,
  hashes: string[],
  now: Date,
): Promise<void> {
  await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
  await tx
    .insert(mfaRecoveryCodes)
    .values(hashes.map((codeHash) => ({ userId, codeHash, createdAt: now })));
}

/** Burns an unused recovery code; false when it is not one of the user's unused codes. */
export async function burnRecoveryCode(
  tx: Db,
  userId: string,
  codeHash: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(mfaRecoveryCodes)
    .set({ usedAt: now })
    .where(
      and(
        eq(mfaRecoveryCodes.userId, userId),
        eq(mfaRecoveryCodes.codeHash, codeHash),
        isNull(mfaRecoveryCodes.usedAt),
      ),
    )
    .returning({ id: mfaRecoveryCodes.id });
  return rows.length > 0;
}

export async function unusedRecoveryCodes(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)));
  return row?.n ?? 0;
}

/** A sign-in challenge: the opaque token goes to the client, its SHA-256 stays here. */
export async function issueChallenge(
  tx: Db,
  userId: string,
  ttlSeconds: number,
  now: Date,
): Promise<string> {
  const token = newOpaqueToken();
  await tx.insert(mfaChallenges).values({
    userId,
    tokenHash: sha256(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
  });
  return token;
}

/** The live challenge a token names: unused, unexpired. */
export async function findLiveChallenge(db: Db, token: string, now: Date) {
  const [row] = await db
    .select({
      id: mfaChallenges.id,
      userId: mfaChallenges.userId,
      failedAttempts: mfaChallenges.failedAttempts,
    })
    .from(mfaChallenges)
    .where(
      and(
        eq(mfaChallenges.tokenHash, sha256(token)),
        isNull(mfaChallenges.consumedAt),
        gt(mfaChallenges.expiresAt, now),
      ),
    );
  return row;
}

/** Answers a challenge: a compare-and-set, so it is answered once. */
export async function consumeChallenge(tx: Db, id: string, now: Date): Promise<boolean> {
  const rows = await tx
    .update(mfaChallenges)
    .set({ consumedAt: now })
    .where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.consumedAt)))
    .returning({ id: mfaChallenges.id });
  return rows.length > 0;
}

/**
 * Counts a wrong code against a challenge; the attempt that reaches `limit` voids it. Returns
 * whether the challenge is still usable.
 */
export async function failChallenge(
  db: Db,
  id: string,
  limit: number,
  now: Date,
): Promise<boolean> {
  const [row] = await db
    .update(mfaChallenges)
    .set({
      failedAttempts: sql`${mfaChallenges.failedAttempts} + 1`,
      consumedAt: sql`case when ${mfaChallenges.failedAttempts} + 1 >= ${limit} then ${now.toISOString()}::timestamptz else ${mfaChallenges.consumedAt} end`,
    })
    .where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.consumedAt)))
    .returning({ consumedAt: mfaChallenges.consumedAt });
  return Boolean(row && row.consumedAt === null);
}

export async function voidChallenges(tx: Db, userId: string, now: Date): Promise<number> {
  const rows = await tx
    .update(mfaChallenges)
    .set({ consumedAt: now })
    .where(and(eq(mfaChallenges.userId, userId), isNull(mfaChallenges.consumedAt)))
    .returning({ id: mfaChallenges.id });
  return rows.length;
}
