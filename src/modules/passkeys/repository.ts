import { and, asc, count, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { passkeyChallenges, passkeys } from '../../db/schema.js';

/** The only writer of passkeys and passkey_challenges. */

export type PasskeyRow = typeof passkeys.$inferSelect;

/** What the owner sees of a passkey: never the key or the credential id. */
const listed = {
  id: passkeys.id,
  name: passkeys.name,
  deviceType: passkeys.deviceType,
  backedUp: passkeys.backedUp,
  transports: passkeys.transports,
  createdAt: passkeys.createdAt,
  lastUsedAt: passkeys.lastUsedAt,
};

export async function listPasskeys(db: Db, userId: string) {
  return db
    .select(listed)
    .from(passkeys)
    .where(eq(passkeys.userId, userId))
    .orderBy(asc(passkeys.id));
}

export async function countPasskeys(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId));
  return row?.n ?? 0;
}

/** The credential ids of a user's passkeys, for excludeCredentials. */
export async function credentialIdsOf(db: Db, userId: string) {
  return db
    .select({ id: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, userId));
}

export async function findPasskeyByCredentialId(db: Db, credentialId: string) {
  const [row] = await db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId));
  return row;
}

/** A new passkey; undefined when the credential is registered already (to anyone). */
export async function insertPasskey(tx: Db, values: typeof passkeys.$inferInsert) {
  const [row] = await tx
    .insert(passkeys)
    .values(values)
    .onConflictDoNothing({ target: passkeys.credentialId })
    .returning(listed);
  return row;
}

export async function deletePasskey(tx: Db, userId: string, id: string) {
  const [row] = await tx
    .delete(passkeys)
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
    .returning({ id: passkeys.id, name: passkeys.name });
  return row;
}

export async function deleteUserPasskeys(tx: Db, userId: string): Promise<number> {
  const rows = await tx
    .delete(passkeys)
    .where(eq(passkeys.userId, userId))
    .returning({ id: passkeys.id });
  await tx.delete(passkeyChallenges).where(eq(passkeyChallenges.userId, userId));
  return rows.length;
}

/**
 * Moves the signature counter forward, a compare-and-set: of two sign-ins with one counter
 * value, one wins. A counter of 0 (authenticators that keep none) stays 0 and passes only while
 * the stored one is 0 too. False: the counter did not rise (a cloned authenticator, or a race).
 */
export async function advanceCounter(
  tx: Db,
  id: string,
  counter: number,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(passkeys)
    .set({ counter, lastUsedAt: now })
    .where(
      and(
        eq(passkeys.id, id),
        counter === 0 ? eq(passkeys.counter, 0) : lt(passkeys.counter, counter),
      ),
    )
    .returning({ id: passkeys.id });
  return rows.length > 0;
}

export async function insertChallenge(
  db: Db,
  values: {
    purpose: 'register' | 'sign_in';
    userId?: string;
    sessionId?: string;
    challenge: string;
    now: Date;
    ttlSeconds: number;
  },
): Promise<string> {
  const [row] = await db
    .insert(passkeyChallenges)
    .values({
      purpose: values.purpose,
      userId: values.userId ?? null,
      sessionId: values.sessionId ?? null,
      challenge: values.challenge,
      createdAt: values.now,
      expiresAt: new Date(values.now.getTime() + values.ttlSeconds * 1000),
    })
    .returning({ id: passkeyChallenges.id });
  if (!row) throw new Error('challenge insert returned nothing');
  return row.id;
}

/**
 * Takes a registration challenge the response quotes, if it was issued to this user's session
 * and is live: deleted as it is read, so it answers once.
 */
export async function takeRegistrationChallenge(
  db: Db,
  userId: string,
  sessionId: string,
  challenge: string,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .delete(passkeyChallenges)
    .where(
      and(
        eq(passkeyChallenges.purpose, 'register'),
        eq(passkeyChallenges.userId, userId),
        eq(passkeyChallenges.sessionId, sessionId),
        eq(passkeyChallenges.challenge, challenge),
      ),
    )
    .returning({ expiresAt: passkeyChallenges.expiresAt });
  return rows.some((row) => row.expiresAt > now);
}

/** Takes a sign-in challenge by its id, live or not (deleted either way); its value if live. */
export async function takeSignInChallenge(
  db: Db,
  id: string,
  now: Date,
): Promise<string | undefined> {
  const [row] = await db
    .delete(passkeyChallenges)
    .where(and(eq(passkeyChallenges.id, id), eq(passkeyChallenges.purpose, 'sign_in')))
    .returning({ challenge: passkeyChallenges.challenge, expiresAt: passkeyChallenges.expiresAt });
  return row && row.expiresAt > now ? row.challenge : undefined;
}

/** Open registration challenges of a session beyond the newest few go (a client asking again). */
export async function pruneRegistrationChallenges(db: Db, sessionId: string, keep: number) {
  await db.execute(sql`
    delete from passkey_challenges where session_id = ${sessionId} and id not in (
      select id from passkey_challenges where session_id = ${sessionId} order by id desc limit ${keep}
    )`);
}
