import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import { users } from '../../db/schema.js';
import { assertAcceptablePassword, type PasswordHasher } from '../auth/passwords.js';
import { findUserByEmail, normaliseEmail } from '../users/repository.js';
import { recordAudit } from './audit.js';
import { ADMIN_ROLE, grantRole } from './repository.js';

export type BootstrapOutcome = 'created' | 'granted' | 'unchanged';

/**
 * Makes sure a verified, active admin with this email exists: creates it, or grants the admin
 * role to the existing account (whose password is never touched). Safe to run on every start
 * and from several instances at once: the insert and the grant are both conflict-tolerant.
 */
export async function ensureAdmin(
  db: Db,
  hasher: PasswordHasher,
  logger: FastifyBaseLogger,
  input: { email: string; password: string; fullName?: string },
): Promise<BootstrapOutcome> {
  const email = normaliseEmail(input.email);
  const existing = await findUserByEmail(db, email);
  const passwordHash = existing ? undefined : await hasher.hash(input.password);
  if (!existing) assertAcceptablePassword(input.password, email);

  return db.transaction(async (tx) => {
    let created = false;
    if (passwordHash) {
      const rows = await tx
        .insert(users)
        .values({
          email,
          fullName: input.fullName ?? 'Administrator',
          passwordHash,
          emailVerified: true,
        })
        .onConflictDoNothing({ target: users.email })
        .returning({ id: users.id });
      created = rows.length > 0;
    }
    const user = await findUserByEmail(tx, email);
    if (!user) throw new Error('the admin account vanished while it was being created');
    const granted = await grantRole(tx, user.id, ADMIN_ROLE);
    if (!created && !granted) return 'unchanged';
    await recordAudit(tx, logger, null, {
      type: 'admin.bootstrapped',
      subjectId: user.id,
      data: { created, granted },
    });
    return created ? 'created' : 'granted';
  });
}
