import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import { audited } from '../../kernel/audit.js';
import { canonicalEmail } from '../../lib/email.js';
import { voidOneTimeTokens } from '../auth/one-time-tokens.js';
import { assertAcceptablePassword, type PasswordHasher } from '../auth/passwords.js';
import { claimUnverifiedUser, findUserByEmail, insertUser } from '../users/repository.js';
import { ADMIN_ROLE, grantRole } from './repository.js';

export type BootstrapOutcome = 'created' | 'claimed' | 'granted' | 'unchanged';

/**
 * Makes sure a verified, active admin with this email exists: creates it, or grants the admin
 * role to the existing account. A verified account keeps its password. An unverified one is
 * claimed: its password was set by whoever registered the address and never proven to belong to
 * the mailbox's owner, so it is replaced by the operator's and the account marked verified
 * (otherwise following the old verification link would turn the squatter's password into an
 * admin login). Safe to run on every start and from several instances at once: the insert, the
 * claim and the grant are all conflict-tolerant.
 */
export async function ensureAdmin(
  db: Db,
  hasher: PasswordHasher,
  logger: FastifyBaseLogger,
  input: { email: string; password: string; fullName?: string; now?: Date },
): Promise<BootstrapOutcome> {
  const now = input.now ?? new Date();
  // The same canonical form self-registration stores, so the admin and a sign-up never coexist
  // under two spellings of one mailbox.
  const email = canonicalEmail(input.email);
  if (!email) throw new Error(`not a plain email address: ${JSON.stringify(input.email)}`);
  const existing = await findUserByEmail(db, email);
  const needsPassword = !existing?.emailVerified;
  if (needsPassword) assertAcceptablePassword(input.password, email);
  const passwordHash = needsPassword ? await hasher.hash(input.password) : undefined;

  return audited(db, logger, null, async (tx, audit) => {
    let created = false;
    if (passwordHash) {
      const row = await insertUser(tx, {
        email,
        fullName: input.fullName ?? 'Administrator',
        passwordHash,
        emailVerified: true,
      });
      created = row !== undefined;
    }
    const user = await findUserByEmail(tx, email);
    if (!user) throw new Error('the admin account vanished while it was being created');
    let claimed = false;
    if (!created && !user.emailVerified && passwordHash) {
      claimed = await claimUnverifiedUser(tx, user.id, passwordHash);
      if (claimed) await voidOneTimeTokens(tx, user.id, 'password_changed', now);
    }
    const granted = await grantRole(tx, user.id, ADMIN_ROLE);
    if (granted) await voidOneTimeTokens(tx, user.id, 'role_granted', now);
    if (!created && !claimed && !granted) return 'unchanged';
    audit({
      type: 'admin.bootstrapped',
      subjectId: user.id,
      data: claimed ? { created, granted, claimed } : { created, granted },
    });
    return created ? 'created' : claimed ? 'claimed' : 'granted';
  });
}
