import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { recordAudit } from '../../kernel/audit.js';
import type { Caller } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import {
  AppError,
  badRequest,
  conflict,
  invalidState,
  invalidToken,
  notFound,
} from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { enqueueMail, type MailSealer, type MailWorker } from '../../mail/outbox.js';
import { mfaResetMail } from '../../mail/templates.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { voidOneTimeTokens } from '../auth/one-time-tokens.js';
import type { PasswordHasher } from '../auth/passwords.js';
import type { AuthService, TokenPair } from '../auth/service.js';
import { raiseSessionAssurance } from '../auth/sessions.js';
import { sha256 } from '../auth/tokens.js';
import { findUserById } from '../users/repository.js';
import {
  burnRecoveryCode,
  consumeChallenge,
  deleteMfa,
  failChallenge,
  findLiveChallenge,
  findTotp,
  replaceRecoveryCodes,
  spendTotpStep,
  startTotpEnrolment,
  unusedRecoveryCodes,
} from './repository.js';
import type { TotpSecretSealer } from './secrets.js';
import {
  matchingStep,
  newRecoveryCodes,
  newTotpSecret,
  normalRecoveryCode,
  provisioning,
} from './totp.js';

/** A second factor as a request carries it: a current TOTP code, or one of the recovery codes. */
export type Proof = { code: string } | { recoveryCode: string };

/** Wrong codes a sign-in challenge survives; the fifth voids it (the password is asked again). */
export const CHALLENGE_MAX_FAILURES = 5;

export interface MfaServiceDeps {
  db: Db;
  config: Config;
  clock: Clock;
  hasher: PasswordHasher;
  totpSealer: TotpSecretSealer;
  /** Wrong codes per account and window, in the login throttle's counter store. */
  codeThrottle: LoginThrottle;
  auth: AuthService;
  sealer: MailSealer;
  mail: MailWorker;
  logger: Logger;
}

const hashRecoveryCode = (code: string) => sha256(normalRecoveryCode(code));

/**
 * A code of the right shape that is not a current, unused code of the user's authenticator (or
 * an unused recovery code): like `invalid_token`, the request was valid, the secret was not.
 */
const wrongCode = (field: string) =>
  new AppError(400, 'invalid_code', 'The code is not valid, or was already used.', [
    { path: `/body/${field}`, message: 'is not a current code of your authenticator' },
  ]);

/**
 * Two-factor sign-in with TOTP (RFC 6238): enrolment, recovery codes, the second step of a
 * sign-in, step-up, disabling, and the admin's reset. Sessions are the auth service's: this
 * module checks the factor and asks it to start or raise one.
 */
export class MfaService {
  constructor(private readonly deps: MfaServiceDeps) {}

  private get db() {
    return this.deps.db;
  }
  private now() {
    return this.deps.clock.now();
  }

  /** What a user or an admin may know: whether there is a factor, never its secret. */
  async status(userId: string) {
    const totp = await findTotp(this.db, userId);
    return {
      totp: Boolean(totp?.confirmedAt),
      recoveryCodesLeft: totp?.confirmedAt ? await unusedRecoveryCodes(this.db, userId) : 0,
    };
  }

  /** Starts (or restarts) enrolment: a new secret, pending until a code confirms it. */
  async enrol(caller: Caller, password: string, context: RequestContext) {
    await this.assertPassword(caller.id, password);
    const now = this.now();
    const secret = newTotpSecret();
    const sealed = this.deps.totpSealer.seal(caller.id, secret);
    await this.db.transaction(async (tx) => {
      if (!(await startTotpEnrolment(tx, caller.id, sealed, now))) {
        throw conflict('Two-factor sign-in is already on; disable it first to enrol again.');
      }
      await recordAudit(tx, this.deps.logger, context, {
        type: 'mfa.totp_enrolled',
        actorId: caller.id,
        subjectId: caller.id,
      });
    });
    return { secret, ...(await provisioning(secret, caller.email)) };
  }

  /**
   * Confirms a pending enrolment with a code, which turns MFA on, returns the recovery codes
   * (shown this once; only their hashes are kept), and counts as a proof of aal2 for this session.
   */
  async confirm(caller: Caller, code: string, context: RequestContext) {
    const pending = await findTotp(this.db, caller.id);
    if (!pending || pending.confirmedAt) {
      throw invalidState('There is no pending enrolment: POST /users/me/mfa/totp first.');
    }
    const now = this.now();
    const step = matchingStep(this.deps.totpSealer.open(caller.id, pending.secret), code, now);
    if (step === undefined) throw wrongCode('code');
    const recoveryCodes = newRecoveryCodes();
    await this.db.transaction(async (tx) => {
      if (!(await spendTotpStep(tx, caller.id, step, now, true))) throw wrongCode('code');
      await replaceRecoveryCodes(tx, caller.id, recoveryCodes.map(hashRecoveryCode), now);
      await raiseSessionAssurance(tx, caller.sessionId, 'otp', now);
      await recordAudit(tx, this.deps.logger, context, {
        type: 'mfa.totp_confirmed',
        actorId: caller.id,
        subjectId: caller.id,
        data: { sessionId: caller.sessionId },
      });
    });
    return { recoveryCodes };
  }

  /** New recovery codes for old; needs the password and a current code (or a recovery code). */
  async regenerateRecoveryCodes(
    caller: Caller,
    password: string,
    proof: Proof,
    context: RequestContext,
  ) {
    await this.assertPassword(caller.id, password);
    const recoveryCodes = newRecoveryCodes();
    await this.withProof(caller.id, proof, context, async (tx, now) => {
      await replaceRecoveryCodes(tx, caller.id, recoveryCodes.map(hashRecoveryCode), now);
      await recordAudit(tx, this.deps.logger, context, {
        type: 'mfa.recovery_codes_regenerated',
        actorId: caller.id,
        subjectId: caller.id,
      });
    });
    return { recoveryCodes };
  }

  /** Turns MFA off; needs the password and a current code (or a recovery code). */
  async disable(caller: Caller, password: string, proof: Proof, context: RequestContext) {
    await this.assertPassword(caller.id, password);
    await this.withProof(caller.id, proof, context, async (tx, now) => {
      await deleteMfa(tx, caller.id, now);
      await recordAudit(tx, this.deps.logger, context, {
        type: 'mfa.disabled',
        actorId: caller.id,
        subjectId: caller.id,
      });
    });
  }

  /**
   * The second step of a sign-in: a live challenge and a second factor give a session at aal2.
   * Wrong codes count against the challenge (the fifth voids it) and against the account (the
   * login throttle's window and limit), like wrong passwords.
   */
  async verifySignIn(challengeToken: string, proof: Proof, context: RequestContext) {
    const now = this.now();
    const challenge = await findLiveChallenge(this.db, challengeToken, now);
    if (!challenge) {
      throw invalidToken(
        'The challenge is invalid, used or expired: sign in with the password again.',
      );
    }
    const user = await findUserById(this.db, challenge.userId);
    if (!user?.isActive) throw invalidToken();
    const attempt = await this.deps.codeThrottle.reserve(challenge.userId, context);
    const method = await this.check(challenge.userId, proof, now, context).catch(async (error) => {
      await attempt.abandoned();
      throw error;
    });
    if (!method) {
      await failChallenge(this.db, challenge.id, CHALLENGE_MAX_FAILURES, now);
      await this.recordFailure(challenge.userId, 'sign_in', context);
      throw new AppError(401, 'invalid_credentials', 'The code is incorrect or was already used.');
    }
    await attempt.succeeded();
    if (!(await consumeChallenge(this.db, challenge.id, now))) throw invalidToken();
    const pair: TokenPair = await this.deps.auth.signIn(
      challenge.userId,
      context,
      { aal: 2, amr: ['pwd', 'otp'], aal2At: now },
      { method },
    );
    return pair;
  }

  /** Raises the caller's session to aal2 with a second factor. */
  async stepUp(caller: Caller, proof: Proof, context: RequestContext) {
    if (!caller.hasMfa) {
      throw invalidState(
        'Two-factor sign-in is off for this account: there is nothing to step up with.',
      );
    }
    const attempt = await this.deps.codeThrottle.reserve(caller.id, context);
    const method = await this.check(caller.id, proof, this.now(), context).catch(async (error) => {
      await attempt.abandoned();
      throw error;
    });
    if (!method) {
      await this.recordFailure(caller.id, 'step_up', context);
      throw wrongCode('code' in proof ? 'code' : 'recoveryCode');
    }
    await attempt.succeeded();
    return this.deps.auth.stepUp(caller, 'otp', context);
  }

  /**
   * An admin turns a user's MFA off (a lost phone and lost codes): the authenticator, the
   * recovery codes and open sign-in challenges go, as do outstanding reset and verification
   * links; the user is mailed, and the audit trail names the admin.
   */
  async adminReset(adminId: string, userId: string, context: RequestContext): Promise<void> {
    const now = this.now();
    const { config, clock, sealer, logger } = this.deps;
    await this.db.transaction(async (tx) => {
      const user = await findUserById(tx, userId);
      if (!user) throw notFound('No such user.');
      if (!(await deleteMfa(tx, userId, now))) {
        throw invalidState('This user has no second factor to reset.');
      }
      await voidOneTimeTokens(tx, userId, 'mfa_reset', now);
      await enqueueMail(tx, sealer, clock, {
        to: user.email,
        template: 'mfa_reset',
        content: mfaResetMail(config.publicAppUrl, user.fullName),
      });
      await recordAudit(tx, logger, context, {
        type: 'mfa.reset',
        actorId: adminId,
        subjectId: userId,
      });
    });
    void this.deps.mail.wake();
  }

  /**
   * Checks a proof and spends it in `change`'s transaction: the TOTP step is marked used, or the
   * recovery code burnt, only if the change commits. A wrong proof is 400 naming the field and
   * counts against the account like a wrong sign-in code.
   */
  private async withProof(
    userId: string,
    proof: Proof,
    context: RequestContext,
    change: (tx: Db, now: Date) => Promise<void>,
  ) {
    const now = this.now();
    const totp = await findTotp(this.db, userId);
    if (!totp?.confirmedAt) throw invalidState('Two-factor sign-in is off for this account.');
    const attempt = await this.deps.codeThrottle.reserve(userId, context);
    let spent = false;
    try {
      await this.db.transaction(async (tx) => {
        spent = await this.spend(tx, userId, totp.secret, proof, now, context);
        if (spent) await change(tx, now);
      });
    } catch (error) {
      await attempt.abandoned();
      throw error;
    }
    if (!spent) {
      await this.recordFailure(userId, 'mfa_change', context);
      throw wrongCode('code' in proof ? 'code' : 'recoveryCode');
    }
    await attempt.succeeded();
  }

  /** Checks and spends a proof in its own transaction; the method used, or undefined. */
  private async check(userId: string, proof: Proof, now: Date, context: RequestContext) {
    const totp = await findTotp(this.db, userId);
    if (!totp?.confirmedAt) return undefined;
    const spent = await this.db.transaction((tx) =>
      this.spend(tx, userId, totp.secret, proof, now, context),
    );
    if (!spent) return undefined;
    return 'code' in proof ? 'totp' : 'recovery_code';
  }

  private async spend(
    tx: Db,
    userId: string,
    sealed: string,
    proof: Proof,
    now: Date,
    context: RequestContext,
  ) {
    if ('code' in proof) {
      const step = matchingStep(this.deps.totpSealer.open(userId, sealed), proof.code, now);
      return step !== undefined && (await spendTotpStep(tx, userId, step, now));
    }
    const burnt = await burnRecoveryCode(tx, userId, hashRecoveryCode(proof.recoveryCode), now);
    if (burnt) {
      await recordAudit(tx, this.deps.logger, context, {
        type: 'mfa.recovery_code_used',
        actorId: userId,
        subjectId: userId,
      });
    }
    return burnt;
  }

  private async recordFailure(userId: string, during: string, context: RequestContext) {
    await recordAudit(this.db, this.deps.logger, context, {
      type: 'auth.mfa_failed',
      subjectId: userId,
      data: { during },
    });
  }

  private async assertPassword(userId: string, password: string): Promise<void> {
    const user = await findUserById(this.db, userId);
    if (!user || !(await this.deps.hasher.verify(password, user.passwordHash))) {
      throw badRequest('The password is incorrect.', [
        { path: '/body/password', message: 'is incorrect' },
      ]);
    }
  }
}
