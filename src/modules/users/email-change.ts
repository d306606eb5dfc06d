import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { recordAudit } from '../../kernel/audit.js';
import type { Caller } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import { canonicalEmail, isInternetDomain } from '../../lib/email.js';
import {
  badRequest,
  conflict,
  invalidToken,
  PG_UNIQUE_VIOLATION,
  pgErrorCode,
} from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { enqueueMail, type MailSealer, type MailWorker } from '../../mail/outbox.js';
import {
  emailChangeConfirmMail,
  emailChangeNoticeMail,
  emailChangeRevertedMail,
  emailChangeTakenMail,
} from '../../mail/templates.js';
import {
  consumeEmailChangeToken,
  issueOneTimeToken,
  voidOneTimeTokens,
} from '../auth/one-time-tokens.js';
import type { PasswordHasher } from '../auth/passwords.js';
import { revokeUserSessions } from '../auth/sessions.js';
import { deleteMfa } from '../mfa/repository.js';
import type { NotificationsService } from '../notifications/service.js';
import { deleteUserPasskeys } from '../passkeys/repository.js';
import {
  insertEmailChange,
  lockEmailChange,
  markEmailChangeConfirmed,
  markEmailChangeReverted,
} from './email-changes.js';
import { findUserByEmail, findUserById, setEmail, setPasswordHash } from './repository.js';

/** The confirmation link to the new address: a day, as a verification link. */
export const CONFIRM_TTL_SECONDS = 24 * 3600;
/** The "this wasn't me" link to the old address: a week, long enough to notice the mail. */
export const REVERT_TTL_SECONDS = 7 * 24 * 3600;

export interface EmailChangeDeps {
  db: Db;
  config: Config;
  clock: Clock;
  hasher: PasswordHasher;
  sealer: MailSealer;
  mail: MailWorker;
  logger: Logger;
  /** Ends the open notification streams of the sessions a revert revokes. */
  notifications: Pick<NotificationsService, 'sessionsChanged'>;
}

const addressTaken = () =>
  conflict('This email address is already used by another account; nothing was changed.');

/** A unique violation on users.email (a concurrent confirmation won the address) is a 409. */
async function mappingTaken<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (pgErrorCode(error) === PG_UNIQUE_VIOLATION) throw addressTaken();
    throw error;
  }
}

/**
 * Changing an account's address, confirmed by both addresses (issue 18). The request needs the
 * password and answers alike whether the new address is free or taken; the address changes only
 * when the link mailed to the new address is followed; the old address gets a notice whose link
 * undoes the change, signs out every session and forces a new password. Each step is one
 * transaction with its audit event and mails.
 */
export class EmailChangeService {
  constructor(private readonly deps: EmailChangeDeps) {}

  private get db() {
    return this.deps.db;
  }

  async request(
    caller: Caller,
    password: string,
    rawNewEmail: string,
    context: RequestContext,
  ): Promise<void> {
    const { config, clock, sealer, logger, hasher } = this.deps;
    const user = await findUserById(this.db, caller.id);
    if (!user || !(await hasher.verify(password, user.passwordHash))) {
      throw badRequest('The password is incorrect.', [
        { path: '/body/password', message: 'is incorrect' },
      ]);
    }
    const newEmail = canonicalEmail(rawNewEmail);
    if (!newEmail || !isInternetDomain(newEmail)) {
      throw badRequest('The email address is not valid.', [
        { path: '/body/newEmail', message: 'must have a domain name such as example.com' },
      ]);
    }
    if (newEmail === user.email) {
      throw badRequest('This is already the account’s address.', [
        { path: '/body/newEmail', message: 'is the current address' },
      ]);
    }
    const now = clock.now();
    await this.db.transaction(async (tx) => {
      const change = await insertEmailChange(tx, {
        userId: user.id,
        oldEmail: user.email,
        newEmail,
        createdAt: now,
      });
      const holder = await findUserByEmail(tx, newEmail);
      if (holder) {
        // No link: confirming could only fail. The holder learns of the attempt; the requester
        // gets the same answer and the old address the same notice as for a free address.
        await enqueueMail(tx, sealer, clock, {
          to: holder.email,
          template: 'email_change_taken',
          content: emailChangeTakenMail(holder.fullName),
        });
      } else {
        const confirm = await issueOneTimeToken(
          tx,
          user.id,
          'confirm_email_change',
          CONFIRM_TTL_SECONDS,
          now,
          change.id,
        );
        await enqueueMail(tx, sealer, clock, {
          to: newEmail,
          template: 'email_change_confirm',
          content: emailChangeConfirmMail(
            config.publicAppUrl,
            user.fullName,
            confirm,
            CONFIRM_TTL_SECONDS / 3600,
          ),
        });
      }
      const revert = await issueOneTimeToken(
        tx,
        user.id,
        'revert_email_change',
        REVERT_TTL_SECONDS,
        now,
        change.id,
      );
      await enqueueMail(tx, sealer, clock, {
        to: user.email,
        template: 'email_change_notice',
        content: emailChangeNoticeMail(
          config.publicAppUrl,
          user.fullName,
          newEmail,
          revert,
          REVERT_TTL_SECONDS / 86_400,
        ),
      });
      await recordAudit(tx, logger, context, {
        type: 'user.email_change_requested',
        actorId: user.id,
        subjectId: user.id,
        data: { emailChangeId: change.id, newEmail, addressTaken: Boolean(holder) },
      });
    });
    void this.deps.mail.wake();
  }

  /**
   * Follows the link mailed to the new address. 400 `invalid_token` for an unknown, used, voided
   * or expired link, or when the account's address moved since the request; 409 when another
   * account holds the new address by now (checked again here, and by the unique index when two
   * confirmations race: one commits, the other meets the index).
   */
  async confirm(token: string, context: RequestContext): Promise<void> {
    const now = this.deps.clock.now();
    await mappingTaken(() =>
      this.db.transaction(async (tx) => {
        const used = await consumeEmailChangeToken(tx, token, 'confirm_email_change', now);
        if (!used) throw invalidToken();
        const change = await lockEmailChange(tx, used.emailChangeId, used.userId);
        const user = await findUserById(tx, used.userId);
        if (!change || change.confirmedAt || change.revertedAt) throw invalidToken();
        if (!user?.isActive || user.email !== change.oldEmail) throw invalidToken();
        const holder = await findUserByEmail(tx, change.newEmail);
        if (holder && holder.id !== user.id) throw addressTaken();
        await setEmail(tx, user.id, change.newEmail);
        if (!(await markEmailChangeConfirmed(tx, change.id, now))) throw invalidToken();
        await voidOneTimeTokens(tx, user.id, 'email_changed', now);
        await recordAudit(tx, this.deps.logger, context, {
          type: 'user.email_changed',
          actorId: user.id,
          subjectId: user.id,
          data: { emailChangeId: change.id, from: change.oldEmail, to: change.newEmail },
        });
      }),
    );
  }

  /**
   * "This wasn't me", from the notice to the old address: the change is undone (or cancelled
   * while pending), every session is revoked (their open streams end), every passkey and the
   * authenticator app (with its recovery codes) are removed, the password is replaced by a random
   * one nobody knows, and a reset link goes to the restored address. 409 when, meanwhile, another account
   * registered the old address (nothing changes then; the operator resolves it).
   */
  async revert(token: string, context: RequestContext): Promise<void> {
    const { config, clock, sealer, logger, hasher } = this.deps;
    const now = clock.now();
    const lockedOut = await hasher.hash(randomBytes(32).toString('base64url'));
    await mappingTaken(() =>
      this.db.transaction(async (tx) => {
        const used = await consumeEmailChangeToken(tx, token, 'revert_email_change', now);
        if (!used) throw invalidToken();
        const change = await lockEmailChange(tx, used.emailChangeId, used.userId);
        const user = await findUserById(tx, used.userId);
        if (!change || change.revertedAt || !user) throw invalidToken();
        const restored = user.email !== change.oldEmail;
        if (restored) {
          const holder = await findUserByEmail(tx, change.oldEmail);
          if (holder && holder.id !== user.id) throw addressTaken();
          await setEmail(tx, user.id, change.oldEmail);
        }
        await markEmailChangeReverted(tx, change.id, now);
        await voidOneTimeTokens(tx, user.id, 'email_change_reverted', now);
        const revoked = await revokeUserSessions(tx, user.id, 'email_change_reverted', now);
        await this.deps.notifications.sessionsChanged(tx, user.id);
        // A hijacker may have added a passkey (it would outlive the locked-out password) or an
        // authenticator (it would lock the owner out at their next sign-in): both go.
        const passkeysRemoved = await deleteUserPasskeys(tx, user.id);
        const totpRemoved = await deleteMfa(tx, user.id, now);
        await setPasswordHash(tx, user.id, lockedOut);
        const reset = await issueOneTimeToken(
          tx,
          user.id,
          'reset_password',
          config.resetTokenTtl,
          now,
        );
        await enqueueMail(tx, sealer, clock, {
          to: change.oldEmail,
          template: 'email_change_reverted',
          content: emailChangeRevertedMail(
            config.publicAppUrl,
            user.fullName,
            reset,
            Math.round(config.resetTokenTtl / 60),
          ),
        });
        await recordAudit(tx, logger, context, {
          type: 'user.email_change_reverted',
          actorId: user.id,
          subjectId: user.id,
          data: {
            emailChangeId: change.id,
            addressRestored: restored,
            wasConfirmed: Boolean(change.confirmedAt),
            sessionsRevoked: revoked,
            passkeysRemoved,
            totpRemoved,
          },
        });
      }),
    );
    void this.deps.mail.wake();
  }
}
