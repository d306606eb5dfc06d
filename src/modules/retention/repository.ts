import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';

/** Cut-off times: rows that stopped mattering before these go. */
export interface Cutoffs {
  /** Sent or failed mail, dead sessions, spent one-time tokens, finished jobs. */
  finished: Date;
  /** Used refresh tokens: never sooner than a session can live, so reuse detection holds. */
  usedRefreshTokens: Date;
  /** Rows that carry their own expiry (idempotency keys): the run's time. */
  expired: Date;
  /** Notifications read before this (NOTIFICATION_RETENTION_DAYS); unread ones stay. */
  readNotifications: Date;
  /** Sign-in devices not seen since: no longer "known" (DEVICE_MEMORY_DAYS). */
  forgottenDevices: Date;
  /** Audit events; null keeps them forever. */
  audit: Date | null;
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * One statement per table, each matching an index so that a batch reads only the rows it
 * deletes. Deleting a session deletes its refresh tokens (on delete cascade).
 */
export function retentionTargets(cutoffs: Cutoffs): Array<{ table: string; where: SQL }> {
  const targets = [
    {
      table: 'mail_outbox',
      where: sql`status <> 'pending' and created_at < ${at(cutoffs.finished)}`,
    },
    { table: 'sessions', where: sql`least(expires_at, revoked_at) < ${at(cutoffs.finished)}` },
    { table: 'refresh_tokens', where: sql`used_at < ${at(cutoffs.usedRefreshTokens)}` },
    {
      table: 'one_time_tokens',
      where: sql`least(consumed_at, expires_at) < ${at(cutoffs.finished)}`,
    },
    {
      table: 'mfa_challenges',
      where: sql`least(consumed_at, expires_at) < ${at(cutoffs.finished)}`,
    },
    {
      table: 'jobs',
      where: sql`state in ('done', 'failed') and finished_at < ${at(cutoffs.finished)}`,
    },
    { table: 'idempotency_keys', where: sql`expires_at < ${at(cutoffs.expired)}` },
    // notifications_read_idx (read_at, where read_at is not null): unread rows are never read.
    { table: 'notifications', where: sql`read_at < ${at(cutoffs.readNotifications)}` },
    // Passkey challenges are deleted as they are answered; the unanswered ones go once expired.
    { table: 'passkey_challenges', where: sql`expires_at < ${at(cutoffs.expired)}` },
    // A device past the memory counts as new anyway. An account's newest device stays, so that
    // the next sign-in after a long absence is a new device (a notice), not the account's first.
    {
      table: 'sign_in_devices',
      where: sql`last_seen_at < ${at(cutoffs.forgottenDevices)}
        and exists (select 1 from sign_in_devices newer
                     where newer.user_id = sign_in_devices.user_id
                       and newer.last_seen_at > sign_in_devices.last_seen_at)`,
    },
  ];
  if (cutoffs.audit) {
    targets.push({ table: 'audit_events', where: sql`created_at < ${at(cutoffs.audit)}` });
  }
  return targets;
}

/** Deletes at most `limit` rows of `table` matching `where`; returns how many went. */
export async function deleteBatch(db: Db, table: string, where: SQL, limit: number) {
  const name = sql.identifier(table);
  const result = (await db.execute(sql`
    with gone as (
      delete from ${name} where id in (select id from ${name} where ${where} limit ${limit})
      returning 1
    )
    select count(*)::int as count from gone
  `)) as unknown as { rows: Array<{ count: number }> };
  return result.rows[0]?.count ?? 0;
}
