import type { Database } from '../../db/client.js';
import type { Caller } from '../../kernel/guards.js';

/**
 * One round trip per authenticated request: the session must be live, the user active, and the
 * roles and the union of their permissions come from the database, never from the token.
 * Four primary-key lookups (the fourth: whether the user has a confirmed second factor; passkeys
 * join that test with an `or exists` of their own): user_grants holds each user's roles and permissions, kept current
 * by triggers in the granting transaction (see the schema). A named (prepared) statement on
 * PostgreSQL.
 */
const LOAD_CALLER = `
select u.id, u.email, u.full_name as "fullName", u.phone, u.email_verified as "emailVerified",
       u.is_active as "isActive", u.created_at as "createdAt", u.updated_at as "updatedAt", u.version,
       s.id as "sessionId", s.last_used_at as "sessionLastUsedAt",
       s.aal, s.amr, s.aal2_at as "aal2At",
       exists(select 1 from mfa_totp t where t.user_id = u.id and t.confirmed_at is not null) as "hasMfa",
       coalesce(g.roles, '{}') as roles, coalesce(g.permissions, '{}') as permissions
  from sessions s
  join users u on u.id = s.user_id
  left join user_grants g on g.user_id = u.id
 where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > $3 and u.is_active`;

export async function loadCaller(
  database: Database,
  userId: string,
  sessionId: string,
  now: Date,
): Promise<Caller | undefined> {
  const rows = await database.query<Caller>('load_caller', LOAD_CALLER, [sessionId, userId, now]);
  return rows[0];
}

const TOUCH_SESSION = 'update sessions set last_used_at = $2 where id = $1';

export function touchSession(database: Database, sessionId: string, now: Date): Promise<unknown> {
  return database.query('touch_session', TOUCH_SESSION, [sessionId, now]);
}
