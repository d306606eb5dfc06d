import { and, asc, desc, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { refreshTokens, sessions, users } from '../../db/schema.js';
import { type Assurance, PASSWORD_ONLY } from '../../kernel/guards.js';
import type { RequestContext } from '../../lib/request-context.js';
import { newOpaqueToken, sha256 } from './tokens.js';

type SessionLifetimes = Pick<Config, 'refreshTokenTtl' | 'refreshIdleTtl'>;

/** Starts a session at the given assurance (a password alone by default) and its first refresh token. */
export async function createSession(
  tx: Db,
  userId: string,
  context: RequestContext,
  lifetimes: SessionLifetimes,
  now: Date,
  assurance: Assurance = PASSWORD_ONLY,
): Promise<{ sessionId: string; refreshToken: string }> {
  const [session] = await tx
    .insert(sessions)
    .values({
      userId,
      userAgent: context.userAgent,
      ip: context.ip,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + lifetimes.refreshTokenTtl * 1000),
      aal: assurance.aal,
      amr: assurance.amr,
      aal2At: assurance.aal2At,
    })
    .returning({ id: sessions.id });
  if (!session) throw new Error('session insert returned nothing');
  const refreshToken = newOpaqueToken();
  await tx
    .insert(refreshTokens)
    .values({ sessionId: session.id, tokenHash: sha256(refreshToken), createdAt: now });
  return { sessionId: session.id, refreshToken };
}

export type RotationResult =
  | {
      outcome: 'rotated';
      userId: string;
      sessionId: string;
      refreshToken: string;
      assurance: Assurance;
    }
  | { outcome: 'invalid' }
  | { outcome: 'race' }
  | { outcome: 'reuse'; userId: string; sessionId: string };

/**
 * A concurrent refresh that lost the race presents a token used a moment ago whose successor is
 * still unused; that is not an attack, so it fails without killing the session.
 */
const RACE_WINDOW_MS = 30_000;

/**
 * Exchanges a refresh token for its successor. The conditional update makes exactly one of
 * several concurrent exchanges win; presenting a token that was already exchanged is replay.
 */
export async function rotateRefreshToken(
  tx: Db,
  presented: string,
  lifetimes: SessionLifetimes,
  now: Date,
): Promise<RotationResult> {
  const hash = sha256(presented);
  const idleCutoff = new Date(now.getTime() - lifetimes.refreshIdleTtl * 1000);
  // Only a token of a live session of an active user is spent. A token of a dead session stays
  // unused, so a client retrying it is told 401 again rather than being taken for a replay.
  const liveSessions = tx
    .select({ id: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        gt(sessions.lastUsedAt, idleCutoff),
        eq(users.isActive, true),
      ),
    );
  const [claimed] = await tx
    .update(refreshTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(refreshTokens.tokenHash, hash),
        isNull(refreshTokens.usedAt),
        inArray(refreshTokens.sessionId, liveSessions),
      ),
    )
    .returning({ sessionId: refreshTokens.sessionId });

  if (!claimed) return classifyUsedToken(tx, hash, now);

  const [session] = await tx
    .update(sessions)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(sessions.id, claimed.sessionId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        gt(sessions.lastUsedAt, idleCutoff),
      ),
    )
    .returning({
      id: sessions.id,
      userId: sessions.userId,
      aal: sessions.aal,
      amr: sessions.amr,
      aal2At: sessions.aal2At,
    });
  if (!session) return { outcome: 'invalid' };

  const [user] = await tx
    .select({ isActive: users.isActive })
    .from(users)
    .where(eq(users.id, session.userId));
  if (!user?.isActive) return { outcome: 'invalid' };

  const refreshToken = newOpaqueToken();
  await tx
    .insert(refreshTokens)
    .values({ sessionId: session.id, tokenHash: sha256(refreshToken), createdAt: now });
  return {
    outcome: 'rotated',
    userId: session.userId,
    sessionId: session.id,
    refreshToken,
    assurance: { aal: session.aal === 2 ? 2 : 1, amr: session.amr, aal2At: session.aal2At },
  };
}

/**
 * Records a second factor proven on a live session (step-up): the session reaches aal2 now, and
 * `method` joins its methods. Returns the new assurance, or undefined for a dead session.
 */
export async function raiseSessionAssurance(
  tx: Db,
  sessionId: string,
  method: string,
  now: Date,
): Promise<Assurance | undefined> {
  const [row] = await tx
    .update(sessions)
    .set({
      aal: 2,
      amr: sql`case when ${method}::text = any(${sessions.amr}) then ${sessions.amr} else array_append(${sessions.amr}, ${method}::text) end`,
      aal2At: now,
    })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .returning({ aal: sessions.aal, amr: sessions.amr, aal2At: sessions.aal2At });
  if (!row) return undefined;
  return { aal: row.aal === 2 ? 2 : 1, amr: row.amr, aal2At: row.aal2At };
}

async function classifyUsedToken(tx: Db, hash: string, now: Date): Promise<RotationResult> {
  const [used] = await tx
    .select({
      id: refreshTokens.id,
      sessionId: refreshTokens.sessionId,
      usedAt: refreshTokens.usedAt,
      userId: sessions.userId,
      revokedAt: sessions.revokedAt,
    })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, hash));
  if (!used?.usedAt) return { outcome: 'invalid' };
  if (used.revokedAt) return { outcome: 'invalid' };

  const successors = await tx
    .select({ usedAt: refreshTokens.usedAt })
    .from(refreshTokens)
    .where(and(eq(refreshTokens.sessionId, used.sessionId), gt(refreshTokens.id, used.id)))
    .orderBy(asc(refreshTokens.id))
    .limit(2);
  const lostARace =
    successors.length === 1 &&
    successors[0]?.usedAt === null &&
    now.getTime() - used.usedAt.getTime() < RACE_WINDOW_MS;
  if (lostARace) return { outcome: 'race' };
  return { outcome: 'reuse', userId: used.userId, sessionId: used.sessionId };
}

export async function revokeSession(
  tx: Db,
  sessionId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Revokes every live session of a user, or every one but `except`. */
export async function revokeUserSessions(
  tx: Db,
  userId: string,
  reason: string,
  now: Date,
  except?: string,
): Promise<number> {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
  if (except) conditions.push(ne(sessions.id, except));
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(...conditions))
    .returning({ id: sessions.id });
  return rows.length;
}

export async function listLiveSessions(db: Db, userId: string, now: Date) {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      userAgent: sessions.userAgent,
      ip: sessions.ip,
    })
    .from(sessions)
    .where(
      and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)),
    )
    .orderBy(desc(sessions.lastUsedAt));
}
