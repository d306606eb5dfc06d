import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { audited } from '../../kernel/audit.js';
import { preconditionFailed } from '../../kernel/conditional.js';
import type { Caller } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import { badRequest, notFound } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { enqueueMail, type MailSealer, type MailWorker } from '../../mail/outbox.js';
import { passwordChangedMail } from '../../mail/templates.js';
import { voidOneTimeTokens } from '../auth/one-time-tokens.js';
import { assertAcceptablePassword, type PasswordHasher } from '../auth/passwords.js';
import { revokeUserSessions } from '../auth/sessions.js';
import { voidChallenges } from '../mfa/repository.js';
import type { NotificationsService } from '../notifications/service.js';
import { assertNotLastAdmin } from '../rbac/repository.js';
import {
  deleteUser,
  findUserById,
  findUserView,
  listUsers,
  setPasswordHash,
  setUserActive,
  type UserListFilter,
  type UserView,
  updateProfile,
} from './repository.js';

export interface UsersServiceDeps {
  db: Db;
  config: Config;
  clock: Clock;
  hasher: PasswordHasher;
  sealer: MailSealer;
  mail: MailWorker;
  logger: Logger;
  /**
   * Runs in the transaction that deletes or disables a user, for what other modules tie to the
   * account (the marketplace cancels open requests and withdraws live quotes); wired by the
   * composition root, so this module imports none of them.
   */
  onAccountClosing?: (tx: Db, userId: string, context: RequestContext) => Promise<void>;
  /** Ends open notification streams of revoked sessions; tells the user of security events. */
  notifications: Pick<NotificationsService, 'notify' | 'sessionsChanged'>;
}

export type ProfileChanges = { fullName?: string; phone?: string | null };

/**
 * Sets a new password in the caller's transaction, with what a new password means for the account:
 * its outstanding links are void, every session but `keepSessionId` ends, and its owner is mailed a
 * notice. The password change (POST /users/me/password) and the reset link share it. Returns how
 * many sessions ended.
 */
export async function replacePassword(
  tx: Db,
  deps: Pick<UsersServiceDeps, 'config' | 'clock' | 'sealer' | 'notifications'>,
  user: { id: string; email: string; fullName: string },
  passwordHash: string,
  options: {
    event: 'password_changed' | 'password_reset';
    now: Date;
    keepSessionId?: string;
    /** A reset link proves the mailbox, so the email counts as verified from then on. */
    verified?: true;
  },
): Promise<number> {
  const { event, now } = options;
  await setPasswordHash(tx, user.id, passwordHash, { verified: options.verified });
  await voidOneTimeTokens(tx, user.id, event, now);
  // A sign-in begun with the old password must not finish after it changed.
  await voidChallenges(tx, user.id, now);
  const revoked = await revokeUserSessions(tx, user.id, event, now, options.keepSessionId);
  await deps.notifications.sessionsChanged(tx, user.id);
  await deps.notifications.notify(tx, { userId: user.id, ...SECURITY_NOTICES[event] });
  await enqueueMail(tx, deps.sealer, deps.clock, {
    to: user.email,
    template: 'password_changed',
    content: passwordChangedMail(deps.config.publicAppUrl, user.fullName),
  });
  return revoked;
}

const SECURITY_NOTICES = {
  password_changed: {
    kind: 'security.password_changed',
    title: 'Your password was changed',
    body: 'Your password was changed and every other session was signed out. If this was not you, reset your password at once.',
  },
  password_reset: {
    kind: 'security.password_reset',
    title: 'Your password was reset',
    body: 'Your password was reset with a link sent to your email address, and every session was signed out. If this was not you, contact support.',
  },
} as const;

const trimmed = (changes: ProfileChanges): ProfileChanges => ({
  ...(changes.fullName !== undefined && { fullName: changes.fullName.trim() }),
  ...(changes.phone !== undefined && { phone: changes.phone?.trim() ?? null }),
});

/**
 * An account as its owner and the admins change it: profile, password, deletion, active status.
 * Each change is one transaction with its audit row.
 */
export class UsersService {
  constructor(private readonly deps: UsersServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async get(id: string, missing?: string): Promise<UserView> {
    const user = await findUserView(this.db, id);
    if (!user) throw notFound(missing);
    return user;
  }

  list(filter: UserListFilter): Promise<UserView[]> {
    return listUsers(this.db, filter);
  }

  /**
   * `expected` (If-Match): the versions of the account the client read; the update is then a
   * compare-and-set on it (412 when another write came first). Undefined: unconditional.
   */
  async updateProfile(
    caller: Caller,
    changes: ProfileChanges,
    context: RequestContext,
    expected?: readonly number[],
  ): Promise<UserView> {
    const clean = trimmed(changes);
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const written =
        expected?.length !== 0 && (await updateProfile(tx, caller.id, clean, expected));
      // The caller exists (the auth query found it): no row means another version.
      if (!written) throw preconditionFailed();
      audit({
        type: 'user.profile_updated',
        actorId: caller.id,
        subjectId: caller.id,
        data: { fields: Object.keys(clean) },
      });
    });
    return this.get(caller.id);
  }

  /** Needs the current password; every other session of the user is signed out. */
  async changePassword(
    caller: Caller,
    currentPassword: string,
    newPassword: string,
    context: RequestContext,
  ): Promise<void> {
    const { config, clock, sealer, logger, hasher } = this.deps;
    await this.assertPassword(caller.id, currentPassword, '/body/currentPassword');
    assertAcceptablePassword(newPassword, caller.email);
    const passwordHash = await hasher.hash(newPassword);
    const now = clock.now();
    await audited(this.db, logger, context, async (tx, audit) => {
      const revoked = await replacePassword(
        tx,
        { config, clock, sealer, notifications: this.deps.notifications },
        caller,
        passwordHash,
        {
          event: 'password_changed',
          now,
          keepSessionId: caller.sessionId,
        },
      );
      audit({
        type: 'user.password_changed',
        actorId: caller.id,
        subjectId: caller.id,
        data: { sessionsRevoked: revoked },
      });
    });
    void this.deps.mail.wake();
  }

  /**
   * Deletes the account and, through foreign keys, its sessions, one-time tokens, properties and
   * services.
   */
  async deleteAccount(caller: Caller, password: string, context: RequestContext): Promise<void> {
    await this.assertPassword(caller.id, password, '/body/password');
    const now = this.deps.clock.now();
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      await assertNotLastAdmin(tx, caller.id);
      await revokeUserSessions(tx, caller.id, 'account_deleted', now);
      await this.deps.onAccountClosing?.(tx, caller.id, context);
      await this.deps.notifications.sessionsChanged(tx, caller.id);
      await deleteUser(tx, caller.id);
      audit({
        type: 'user.deleted',
        actorId: caller.id,
        subjectId: caller.id,
        data: { email: caller.email },
      });
    });
    void this.deps.mail.wake();
  }

  /**
   * Disabling signs the user out everywhere at once and voids the account's outstanding links;
   * the last active admin cannot be disabled.
   */
  async setActive(
    actorId: string,
    userId: string,
    isActive: boolean,
    context: RequestContext,
  ): Promise<UserView> {
    const now = this.deps.clock.now();
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const user = await findUserById(tx, userId);
      if (!user) throw notFound('No such user.');
      if (user.isActive === isActive) return;
      if (!isActive) {
        await assertNotLastAdmin(tx, userId);
        await revokeUserSessions(tx, userId, 'account_disabled', now);
        await this.deps.onAccountClosing?.(tx, userId, context);
        await this.deps.notifications.sessionsChanged(tx, userId);
        await voidChallenges(tx, userId, now);
      }
      await setUserActive(tx, userId, isActive);
      await voidOneTimeTokens(tx, userId, isActive ? 'account_enabled' : 'account_disabled', now);
      audit({
        type: isActive ? 'user.enabled' : 'user.disabled',
        actorId,
        subjectId: userId,
      });
    });
    void this.deps.mail.wake();
    return this.get(userId, 'No such user.');
  }

  private async assertPassword(userId: string, password: string, path: string): Promise<void> {
    const user = await findUserById(this.db, userId);
    if (!user || !(await this.deps.hasher.verify(password, user.passwordHash))) {
      throw badRequest('The password is incorrect.', [{ path, message: 'is incorrect' }]);
    }
  }
}
