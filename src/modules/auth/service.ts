import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { audited, recordAudit } from '../../kernel/audit.js';
import { type Assurance, type Caller, PASSWORD_ONLY } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import { canonicalEmail, isInternetDomain } from '../../lib/email.js';
import {
  AppError,
  badRequest,
  invalidCredentials,
  invalidToken,
  notFound,
  unauthorized,
} from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { enqueueMail, type MailSealer, type MailWorker } from '../../mail/outbox.js';
import {
  alreadyRegisteredMail,
  newSignInMail,
  resetPasswordMail,
  verifyEmailMail,
} from '../../mail/templates.js';
import type { NotificationsService } from '../notifications/service.js';
import { grantRole } from '../rbac/repository.js';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  markEmailVerified,
  setPasswordHash,
} from '../users/repository.js';
import { replacePassword } from '../users/service.js';
import { deviceHashOf, networkOf, recordSignInDevice } from './devices.js';
import type { LoginThrottle } from './login-throttle.js';
import { consumeOneTimeToken, issueOneTimeToken } from './one-time-tokens.js';
import { assertAcceptablePassword, type PasswordHasher } from './passwords.js';
import {
  createSession,
  listLiveSessions,
  raiseSessionAssurance,
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
} from './sessions.js';
import type { AccessTokens } from './tokens.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

export interface AuthServiceDeps {
  db: Db;
  config: Config;
  clock: Clock;
  hasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  accessTokens: AccessTokens;
  sealer: MailSealer;
  mail: MailWorker;
  logger: Logger;
  /** Ends open notification streams of revoked sessions; tells the user of security events. */
  notifications: Pick<NotificationsService, 'notify' | 'sessionsChanged' | 'shouldMail'>;
  /**
   * The second factor's part in a password sign-in (modules/mfa, wired by the composition root):
   * a challenge for a user who has one, which POST /auth/mfa/verify answers.
   */
  secondFactor?: { challengeFor(userId: string, now: Date): Promise<string | undefined> };
}

/** Seconds a sign-in challenge lives; the mfa module issues it. */
export const MFA_CHALLENGE_TTL_SECONDS = 300;

/**
 * A password sign-in of a user with a second factor: no tokens yet, a problem with the challenge
 * as an extension member (API.md lists `mfa_required` among the errors).
 */
export const mfaRequired = (challenge: string) =>
  new AppError(
    401,
    'mfa_required',
    'The password is right; now send a code from your authenticator app (or a recovery code) with this challenge to POST /auth/mfa/verify.',
    undefined,
    undefined,
    { challenge, challengeExpiresIn: MFA_CHALLENGE_TTL_SECONDS },
  );

/**
 * The canonical address: the one spelling rows, throttles and mail use. The schemas let through
 * only addresses this accepts; the 400 here guards callers that skip them.
 */
function mailbox(raw: string, field = 'email'): string {
  const email = canonicalEmail(raw);
  if (!email) throw notAnAddress(field, 'must be a plain email address (name@example.com)');
  return email;
}

const notAnAddress = (field: string, message: string) =>
  badRequest('The email address is not valid.', [{ path: `/body/${field}`, message }]);

/** Self-registration may choose only these; `admin` is granted, never chosen. */
export type SelfServiceRole = 'homeowner' | 'service_provider';

/**
 * Credentials and sessions: registration, verification, login, refresh, logout, password reset.
 * Each multi-step change is one transaction (rows, token, mail, audit). The account itself
 * (profile, password change, deletion, status) is the users service's.
 */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  private get db() {
    return this.deps.db;
  }
  private now() {
    return this.deps.clock.now();
  }

  /** Same answer whether the email is new or taken; the mailbox owner learns which. */
  async register(
    input: { email: string; password: string; fullName: string; role: SelfServiceRole },
    context: RequestContext,
  ): Promise<void> {
    const email = mailbox(input.email);
    // Mail to a dotless or numeric domain would stay on the relay's own host or network.
    if (!isInternetDomain(email))
      throw notAnAddress('email', 'must have a domain name such as example.com');
    assertAcceptablePassword(input.password, email);
    // Hash before looking anything up, so a taken email costs the same time as a new one.
    const passwordHash = await this.deps.hasher.hash(input.password);
    const { config, clock, sealer, logger } = this.deps;
    const now = this.now();

    await audited(this.db, logger, context, async (tx, audit) => {
      const created = await insertUser(tx, {
        email,
        fullName: input.fullName.trim(),
        passwordHash,
        createdAt: now,
        updatedAt: now,
      });

      if (created) {
        await grantRole(tx, created.id, input.role);
        const token = await issueOneTimeToken(
          tx,
          created.id,
          'verify_email',
          config.verifyTokenTtl,
          now,
        );
        await enqueueMail(tx, sealer, clock, {
          to: email,
          template: 'verify_email',
          content: verifyEmailMail(
            config.publicAppUrl,
            created.fullName,
            token,
            config.verifyTokenTtl / 3600,
          ),
        });
        audit({
          type: 'user.registered',
          actorId: created.id,
          subjectId: created.id,
          data: { role: input.role },
        });
        return;
      }
      const existing = await findUserByEmail(tx, email);
      if (!existing) return;
      await enqueueMail(tx, sealer, clock, {
        to: email,
        template: 'already_registered',
        content: alreadyRegisteredMail(config.publicAppUrl, existing.fullName, config.linkPages),
      });
      audit({
        type: 'user.register_existing_email',
        subjectId: existing.id,
      });
    });
    void this.deps.mail.wake();
  }

  async verifyEmail(token: string, context: RequestContext): Promise<void> {
    const now = this.now();
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const userId = await consumeOneTimeToken(tx, token, 'verify_email', now);
      if (!userId) throw invalidToken();
      await markEmailVerified(tx, userId);
      audit({
        type: 'user.email_verified',
        actorId: userId,
        subjectId: userId,
      });
    });
  }

  /** Answers the same for any email; mails only an unverified, active account. */
  async resendVerification(rawEmail: string): Promise<void> {
    const { config, clock, sealer } = this.deps;
    const email = mailbox(rawEmail);
    const now = this.now();
    const sent = await this.db.transaction(async (tx) => {
      const user = await findUserByEmail(tx, email);
      if (!user || user.emailVerified || !user.isActive) return false;
      const token = await issueOneTimeToken(
        tx,
        user.id,
        'verify_email',
        config.verifyTokenTtl,
        now,
      );
      await enqueueMail(tx, sealer, clock, {
        to: user.email,
        template: 'verify_email',
        content: verifyEmailMail(
          config.publicAppUrl,
          user.fullName,
          token,
          config.verifyTokenTtl / 3600,
        ),
      });
      return true;
    });
    if (sent) void this.deps.mail.wake();
  }

  /**
   * 401 alike for an unknown email and a wrong password (one bcrypt either way); the account's
   * state (disabled, unverified) is revealed only to someone who knows the password. The attempt
   * is counted against the email's throttle before the password is compared.
   */
  async login(
    rawEmail: string,
    password: string,
    context: RequestContext,
    field: 'email' | 'username' = 'email',
  ): Promise<TokenPair> {
    const { hasher, logger } = this.deps;
    const email = mailbox(rawEmail, field);
    const attempt = await this.deps.loginThrottle.reserve(email, context);
    let user: Awaited<ReturnType<typeof findUserByEmail>>;
    let valid: boolean;
    try {
      user = await findUserByEmail(this.db, email);
      valid = user
        ? await hasher.verify(password, user.passwordHash)
        : await hasher.verifyAgainstDummy(password);
    } catch (error) {
      await attempt.abandoned();
      throw error;
    }

    if (!user || !valid) {
      await recordAudit(this.db, logger, context, {
        type: 'auth.login_failed',
        subjectId: user?.id ?? null,
        data: { email, reason: user ? 'wrong_password' : 'unknown_email' },
      });
      throw invalidCredentials();
    }
    await attempt.succeeded();
    if (!user.isActive) {
      await recordAudit(this.db, logger, context, {
        type: 'auth.login_failed',
        subjectId: user.id,
        data: { email, reason: 'account_disabled' },
      });
      throw new AppError(403, 'account_disabled', 'This account has been disabled.');
    }
    if (!user.emailVerified) {
      await recordAudit(this.db, logger, context, {
        type: 'auth.login_failed',
        subjectId: user.id,
        data: { email, reason: 'email_not_verified' },
      });
      throw new AppError(403, 'email_not_verified', 'Verify your email address before signing in.');
    }

    const upgradedHash = hasher.needsRehash(user.passwordHash)
      ? await hasher.hash(password)
      : undefined;
    if (upgradedHash) await setPasswordHash(this.db, user.id, upgradedHash);
    const challenge = await this.deps.secondFactor?.challengeFor(user.id, this.now());
    if (challenge) {
      await recordAudit(this.db, logger, context, {
        type: 'auth.mfa_challenged',
        actorId: user.id,
        subjectId: user.id,
      });
      throw mfaRequired(challenge);
    }
    return this.signIn(user.id, context, PASSWORD_ONLY, { rehashed: Boolean(upgradedHash) });
  }

  /**
   * Starts a session at `assurance` and returns its token pair, with the `auth.login_succeeded`
   * audit row: the last step of every way in (password, password + second factor, passkey), once
   * the caller has checked the account is active and verified.
   */
  async signIn(
    userId: string,
    context: RequestContext,
    assurance: Assurance,
    auditData: Record<string, unknown> = {},
  ): Promise<TokenPair> {
    const now = this.now();
    const { session, mailed } = await this.db.transaction(async (tx) => {
      const created = await createSession(tx, userId, context, this.deps.config, now, assurance);
      const device = await recordSignInDevice(
        tx,
        userId,
        deviceHashOf(context.userAgent, context.ip),
        now,
      );
      const mailed =
        device === 'new' && (await this.newDeviceNotice(tx, userId, context, assurance, now));
      await recordAudit(tx, this.deps.logger, context, {
        type: 'auth.login_succeeded',
        actorId: userId,
        subjectId: userId,
        data: {
          sessionId: created.sessionId,
          amr: assurance.amr,
          device,
          ...(device === 'new' ? { newDeviceMailed: mailed } : {}),
          ...auditData,
        },
      });
      return { session: created, mailed };
    });
    if (mailed) void this.deps.mail.wake();
    return this.tokenPair(userId, session.sessionId, session.refreshToken, assurance);
  }

  /**
   * A sign-in from a device (user agent + network) not seen for 90 days: a notification, and a
   * mail unless the user turned `account.new_sign_in` mails off. True when a mail was queued.
   */
  private async newDeviceNotice(
    tx: Db,
    userId: string,
    context: RequestContext,
    assurance: Assurance,
    now: Date,
  ): Promise<boolean> {
    const user = await findUserById(tx, userId);
    if (!user) return false;
    const method = assurance.amr.includes('hwk')
      ? 'a passkey'
      : assurance.amr.includes('otp')
        ? 'password and authenticator code'
        : 'password';
    const browser = (context.userAgent ?? 'unknown').replace(/\p{Cc}/gu, ' ').slice(0, 160);
    const network = networkOf(context.ip);
    await this.deps.notifications.notify(tx, {
      userId,
      kind: 'account.new_sign_in',
      title: 'New sign-in to your account',
      body: `A sign-in with ${method} from a browser or network not used on your account lately (${network}). If this was not you, reset your password and sign out everywhere.`,
    });
    if (!(await this.deps.notifications.shouldMail(userId, 'account.new_sign_in', tx))) {
      return false;
    }
    const { config, clock, sealer } = this.deps;
    await enqueueMail(tx, sealer, clock, {
      to: user.email,
      template: 'new_sign_in',
      content: newSignInMail(config.publicAppUrl, user.fullName, {
        at: now,
        method,
        browser,
        network,
      }),
    });
    return true;
  }

  /**
   * Raises the caller's session to aal2 once the second factor (`method`: otp, hwk…) has been
   * checked by its module, and returns a fresh access token that says so. The refresh token
   * stays: the next refresh carries the raised level, kept on the session.
   */
  async stepUp(
    caller: Caller,
    method: string,
    context: RequestContext,
  ): Promise<Omit<TokenPair, 'refresh_token'> & { aal: 1 | 2; amr: string[] }> {
    const now = this.now();
    const assurance = await this.db.transaction(async (tx) => {
      const raised = await raiseSessionAssurance(tx, caller.sessionId, method, now);
      if (!raised) throw unauthorized('The session has ended.');
      await recordAudit(tx, this.deps.logger, context, {
        type: 'auth.step_up',
        actorId: caller.id,
        subjectId: caller.id,
        data: { sessionId: caller.sessionId, method },
      });
      return raised;
    });
    return {
      access_token: await this.deps.accessTokens.sign({
        userId: caller.id,
        sessionId: caller.sessionId,
        assurance,
      }),
      token_type: 'bearer',
      expires_in: this.deps.accessTokens.expiresIn,
      aal: assurance.aal,
      amr: assurance.amr,
    };
  }

  async refresh(presented: string, context: RequestContext): Promise<TokenPair> {
    const now = this.now();
    const result = await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const rotation = await rotateRefreshToken(tx, presented, this.deps.config, now);
      if (rotation.outcome === 'reuse') {
        await revokeSession(tx, rotation.sessionId, 'refresh_token_reuse', now);
        await this.deps.notifications.sessionsChanged(tx, rotation.userId);
        audit({
          type: 'auth.refresh_reuse',
          subjectId: rotation.userId,
          data: { sessionId: rotation.sessionId },
        });
      }
      return rotation;
    });
    if (result.outcome !== 'rotated')
      throw unauthorized('The refresh token is invalid, expired or revoked.');
    return this.tokenPair(result.userId, result.sessionId, result.refreshToken, result.assurance);
  }

  async logout(caller: Caller, context: RequestContext): Promise<void> {
    const now = this.now();
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      await revokeSession(tx, caller.sessionId, 'logout', now);
      await this.deps.notifications.sessionsChanged(tx, caller.id);
      audit({
        type: 'auth.logout',
        actorId: caller.id,
        subjectId: caller.id,
        data: { sessionId: caller.sessionId },
      });
    });
  }

  async logoutAll(caller: Caller, context: RequestContext): Promise<void> {
    const now = this.now();
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const count = await revokeUserSessions(tx, caller.id, 'logout_all', now);
      await this.deps.notifications.sessionsChanged(tx, caller.id);
      await this.deps.notifications.notify(tx, {
        userId: caller.id,
        kind: 'security.signed_out_everywhere',
        title: 'You signed out everywhere',
        body: `Every session of your account was signed out (${count}). If this was not you, change your password.`,
      });
      audit({
        type: 'auth.logout_all',
        actorId: caller.id,
        subjectId: caller.id,
        data: { sessions: count },
      });
    });
  }

  async sessions(caller: Caller) {
    const rows = await listLiveSessions(this.db, caller.id, this.now());
    return rows.map((row) => ({ ...row, current: row.id === caller.sessionId }));
  }

  async revokeOwnSession(
    caller: Caller,
    sessionId: string,
    context: RequestContext,
  ): Promise<void> {
    const now = this.now();
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const sessions = await listLiveSessions(tx, caller.id, now);
      if (!sessions.some((session) => session.id === sessionId)) throw notFound('No such session.');
      await revokeSession(tx, sessionId, 'revoked_by_user', now);
      await this.deps.notifications.sessionsChanged(tx, caller.id);
      audit({
        type: 'auth.session_revoked',
        actorId: caller.id,
        subjectId: caller.id,
        data: { sessionId },
      });
    });
  }

  /** Answers the same for any email; mails a reset link to an active account. */
  async forgotPassword(rawEmail: string, context: RequestContext): Promise<void> {
    const { config, clock, sealer, logger } = this.deps;
    const email = mailbox(rawEmail);
    const now = this.now();
    const sent = await audited(this.db, logger, context, async (tx, audit) => {
      const user = await findUserByEmail(tx, email);
      if (!user?.isActive) return false;
      const token = await issueOneTimeToken(
        tx,
        user.id,
        'reset_password',
        config.resetTokenTtl,
        now,
      );
      await enqueueMail(tx, sealer, clock, {
        to: user.email,
        template: 'reset_password',
        content: resetPasswordMail(
          config.publicAppUrl,
          user.fullName,
          token,
          Math.round(config.resetTokenTtl / 60),
        ),
      });
      audit({
        type: 'user.password_reset_requested',
        subjectId: user.id,
      });
      return true;
    });
    if (sent) void this.deps.mail.wake();
  }

  /**
   * Sets a new password from a reset link and signs the user out everywhere. Following the link
   * proves the mailbox is theirs, so the email counts as verified from then on.
   */
  async resetPassword(token: string, newPassword: string, context: RequestContext): Promise<void> {
    const now = this.now();
    const { config, clock, sealer, logger, hasher } = this.deps;
    assertAcceptablePassword(newPassword);
    const passwordHash = await hasher.hash(newPassword);
    await audited(this.db, logger, context, async (tx, audit) => {
      const userId = await consumeOneTimeToken(tx, token, 'reset_password', now);
      if (!userId) throw invalidToken();
      const user = await findUserById(tx, userId);
      if (!user?.isActive) throw invalidToken();
      assertAcceptablePassword(newPassword, user.email);
      const revoked = await replacePassword(
        tx,
        { config, clock, sealer, notifications: this.deps.notifications },
        user,
        passwordHash,
        {
          event: 'password_reset',
          now,
          verified: true,
        },
      );
      audit({
        type: 'user.password_reset',
        actorId: userId,
        subjectId: userId,
        data: { sessionsRevoked: revoked },
      });
    });
    void this.deps.mail.wake();
  }

  private async tokenPair(
    userId: string,
    sessionId: string,
    refreshToken: string,
    assurance: Assurance,
  ): Promise<TokenPair> {
    return {
      access_token: await this.deps.accessTokens.sign({ userId, sessionId, assurance }),
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: this.deps.accessTokens.expiresIn,
    };
  }
}
