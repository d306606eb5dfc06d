import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Db } from '../db/client.js';
import { auditEvents } from '../db/schema.js';
import type { RequestContext } from '../lib/request-context.js';

export type AuditType =
  | 'user.registered'
  | 'user.register_existing_email'
  | 'user.email_verified'
  | 'auth.login_succeeded'
  | 'auth.login_failed'
  | 'auth.refresh_reuse'
  | 'auth.logout'
  | 'auth.logout_all'
  | 'auth.session_revoked'
  | 'auth.step_up'
  | 'auth.mfa_failed'
  | 'auth.mfa_challenged'
  | 'mfa.totp_enrolled'
  | 'mfa.totp_confirmed'
  | 'mfa.recovery_codes_regenerated'
  | 'mfa.recovery_code_used'
  | 'mfa.disabled'
  | 'mfa.reset'
  | 'passkey.registered'
  | 'passkey.deleted'
  | 'passkey.clone_refused'
  | 'user.password_changed'
  | 'user.email_change_requested'
  | 'user.email_changed'
  | 'user.email_change_reverted'
  | 'user.password_reset_requested'
  | 'user.password_reset'
  | 'user.profile_updated'
  | 'user.deleted'
  | 'user.disabled'
  | 'user.enabled'
  | 'role.granted'
  | 'role.revoked'
  | 'admin.bootstrapped'
  // The marketplace: one type per transition (src/modules/marketplace/transitions.ts).
  | `request.${string}`
  | `quote.${string}`
  | `booking.${string}`
  // Reviews: an admin hid one (src/modules/reviews).
  | 'review.hidden';

export interface AuditEntry {
  type: AuditType;
  actorId?: string | null;
  subjectId?: string | null;
  data?: Record<string, unknown>;
}

/**
 * Writes an audit row in the caller's transaction (it exists only if the change commits) and
 * a structured log line for log-based alerting.
 */
export async function recordAudit(
  tx: Db,
  logger: Logger,
  context: RequestContext | null,
  entry: AuditEntry,
): Promise<void> {
  await tx.insert(auditEvents).values({
    type: entry.type,
    actorId: entry.actorId ?? null,
    subjectId: entry.subjectId ?? null,
    ip: context?.ip ?? null,
    requestId: context?.requestId ?? null,
    data: entry.data ?? {},
  });
  logger.info(
    {
      event: entry.type,
      actorId: entry.actorId ?? undefined,
      subjectId: entry.subjectId ?? undefined,
      ip: context?.ip,
      reqId: context?.requestId,
      ...entry.data,
    },
    `security event ${entry.type}`,
  );
}

/**
 * Runs `change` in one transaction and writes the audit rows it declared, in that transaction,
 * after it: the change and its trail commit together or not at all. `change` calls `audit(entry)`
 * for each event (none when nothing changed); a throw rolls everything back and records nothing.
 * The one shape every service uses for "rows, mail and audit as one transaction".
 */
export async function audited<T>(
  db: Db,
  logger: Logger,
  context: RequestContext | null,
  change: (tx: Db, audit: (entry: AuditEntry) => void) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const entries: AuditEntry[] = [];
    const result = await change(tx, (entry) => {
      entries.push(entry);
    });
    for (const entry of entries) await recordAudit(tx, logger, context, entry);
    return result;
  });
}

export interface AuditFilter {
  userId?: string;
  type?: string;
  limit: number;
  after?: string;
}

/** Newest first, keyset-paged; `userId` matches the actor or the subject of an event. */
export async function listAuditEvents(db: Db, filter: AuditFilter) {
  const conditions: SQL[] = [];
  if (filter.userId) {
    const userMatch = or(
      eq(auditEvents.actorId, filter.userId),
      eq(auditEvents.subjectId, filter.userId),
    );
    if (userMatch) conditions.push(userMatch);
  }
  if (filter.type) conditions.push(eq(auditEvents.type, filter.type));
  if (filter.after) conditions.push(lt(auditEvents.id, filter.after));
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.id))
    .limit(filter.limit);
}
