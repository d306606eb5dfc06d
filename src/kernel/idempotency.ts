import { createHash, randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { idempotencyKeys } from '../db/schema.js';

/**
 * The store behind `Idempotency-Key` (the hooks are in plugins/idempotency.ts): the only writer
 * of `idempotency_keys`. A request claims its (user, key) before its handler runs; the answer it
 * gives is recorded against the claim; a later request with that key gets the recorded answer.
 */

/** Replays are kept this long (API.md: 24 hours); the retention job deletes them after. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/**
 * How long a claim holds while its request runs. A claim older than this belongs to a request
 * that died (process killed between claim and answer): the same request may then take it over.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/** What makes two requests "the same request": method, path (and query) and body. */
export interface RequestIdentity {
  method: string;
  path: string;
  fingerprint: string;
}

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type ClaimOutcome =
  | { kind: 'claimed'; id: string; claim: string }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_use' }
  | { kind: 'reused' };

/** JSON with object keys sorted at every level: `{"a":1,"b":2}` whatever order the client sent. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? '';
}

export function bodyFingerprint(body: unknown): string {
  return createHash('sha256')
    .update(body === undefined ? '' : canonicalJson(body))
    .digest('hex');
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * Claims (user, key) for this request in one statement: a new key is inserted; an expired row is
 * replaced; a pending row whose lease ran out is taken over by the same request. Otherwise the
 * row that holds the key decides: its answer is replayed, or it is in flight, or it belongs to
 * another request.
 */
export async function claimKey(
  db: Db,
  userId: string,
  key: string,
  request: RequestIdentity,
  now: Date,
): Promise<ClaimOutcome> {
  // Twice at most: a row deleted by retention between the two statements is simply claimed anew.
  for (let attempt = 0; attempt < 2; attempt++) {
    const claim = randomUUID();
    const lockedUntil = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS);
    const expiresAt = new Date(now.getTime() + IDEMPOTENCY_TTL_MS);
    const [claimed] = await db
      .insert(idempotencyKeys)
      .values({
        userId,
        key,
        ...request,
        state: 'pending',
        claim,
        lockedUntil,
        createdAt: now,
        expiresAt,
      })
      .onConflictDoUpdate({
        target: [idempotencyKeys.userId, idempotencyKeys.key],
        set: {
          method: request.method,
          path: request.path,
          fingerprint: request.fingerprint,
          state: 'pending',
          claim,
          lockedUntil,
          statusCode: null,
          responseHeaders: null,
          responseBody: null,
          createdAt: now,
          expiresAt,
        },
        setWhere: sql`${idempotencyKeys.expiresAt} <= ${at(now)} or (
          ${idempotencyKeys.state} = 'pending' and ${idempotencyKeys.lockedUntil} <= ${at(now)}
          and ${idempotencyKeys.method} = ${request.method} and ${idempotencyKeys.path} = ${request.path}
          and ${idempotencyKeys.fingerprint} = ${request.fingerprint}
        )`,
      })
      .returning({ id: idempotencyKeys.id });
    if (claimed) return { kind: 'claimed', id: claimed.id, claim };

    const [held] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
    if (!held) continue;
    if (
      held.method !== request.method ||
      held.path !== request.path ||
      held.fingerprint !== request.fingerprint
    ) {
      return { kind: 'reused' };
    }
    if (held.state === 'done' && held.statusCode !== null) {
      return {
        kind: 'replay',
        response: {
          statusCode: held.statusCode,
          headers: held.responseHeaders ?? {},
          body: held.responseBody ?? '',
        },
      };
    }
    return { kind: 'in_use' };
  }
  return { kind: 'in_use' };
}

/** Records the answer of the request holding `claim`; false when the claim was lost meanwhile. */
export async function recordResponse(
  db: Db,
  held: { id: string; claim: string },
  response: StoredResponse,
): Promise<boolean> {
  const rows = await db
    .update(idempotencyKeys)
    .set({
      state: 'done',
      statusCode: response.statusCode,
      responseHeaders: response.headers,
      responseBody: response.body,
    })
    .where(
      and(
        eq(idempotencyKeys.id, held.id),
        eq(idempotencyKeys.claim, held.claim),
        eq(idempotencyKeys.state, 'pending'),
      ),
    )
    .returning({ id: idempotencyKeys.id });
  return rows.length === 1;
}

/** Gives the key back (the request failed without an answer worth replaying): a retry runs anew. */
export async function releaseKey(db: Db, held: { id: string; claim: string }): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.id, held.id),
        eq(idempotencyKeys.claim, held.claim),
        eq(idempotencyKeys.state, 'pending'),
      ),
    );
}
