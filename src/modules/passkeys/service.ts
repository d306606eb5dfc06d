import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { audited, recordAudit } from '../../kernel/audit.js';
import { type Caller, hasFreshAal2, stepUpRequired } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import {
  AppError,
  badRequest,
  conflict,
  invalidCredentials,
  invalidToken,
  notFound,
} from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { PasswordHasher } from '../auth/passwords.js';
import type { AuthService, TokenPair } from '../auth/service.js';
import { findUserById } from '../users/repository.js';
import {
  advanceCounter,
  countPasskeys,
  credentialIdsOf,
  deletePasskey,
  findPasskeyByCredentialId,
  insertChallenge,
  insertPasskey,
  listPasskeys,
  pruneRegistrationChallenges,
  takeRegistrationChallenge,
  takeSignInChallenge,
} from './repository.js';

/** Seconds a registration or sign-in challenge lives. */
export const PASSKEY_CHALLENGE_TTL_SECONDS = 300;
/** Passkeys one account may hold: enough for every device, few enough to list unpaged. */
export const MAX_PASSKEYS = 10;
/** Open registration challenges one session keeps (a client that asks again). */
const OPEN_REGISTRATIONS_PER_SESSION = 3;
/** The relying party's name, as the browser's passkey dialogue shows it. */
const RP_NAME = 'Homefront';
/** ES256, EdDSA, RS256: what platform authenticators and security keys make. */
const ALGORITHMS = [-7, -8, -257];

export interface PasskeysServiceDeps {
  db: Db;
  config: Config;
  clock: Clock;
  hasher: PasswordHasher;
  auth: AuthService;
  logger: Logger;
}

/** The WebAuthn user handle of an account: its UUID's 16 bytes, no name or address in it. */
export const userHandleOf = (userId: string) => Buffer.from(userId.replace(/-/g, ''), 'hex');

/**
 * The challenge a response quotes, read from its client data (checked again by the library);
 * undefined when the client data names none, so the response answers no challenge of ours.
 */
function quotedChallenge(clientDataJSON: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    if (typeof parsed?.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(parsed.challenge)) {
      return parsed.challenge;
    }
  } catch {
    // names no challenge
  }
  return undefined;
}

const refusedCredential = (reason: string) =>
  badRequest('The authenticator’s response was refused.', [
    { path: '/body/credential', message: reason },
  ]);

/**
 * Passkeys (WebAuthn discoverable credentials): registering one to a signed-in account, listing
 * and deleting them, and signing in with one, no password and no user named. Challenges are
 * kept here (single use, 5 minutes); sessions are the auth service's.
 */
export class PasskeysService {
  constructor(private readonly deps: PasskeysServiceDeps) {}

  private get db() {
    return this.deps.db;
  }
  private now() {
    return this.deps.clock.now();
  }
  private get webauthn() {
    return this.deps.config.webauthn;
  }

  list(userId: string) {
    return listPasskeys(this.db, userId);
  }

  count(userId: string) {
    return countPasskeys(this.db, userId);
  }

  /**
   * The options of `navigator.credentials.create()`. Needs a fresh aal2 (step-up, or a passkey
   * sign-in, in the last 10 minutes) or the password; a user with TOTP must have the fresh aal2
   * (the route's step-up guard), or a stolen password would buy a way around the second factor.
   */
  async registrationOptions(caller: Caller, password: string | undefined) {
    const now = this.now();
    if (!hasFreshAal2(caller, now)) {
      if (caller.hasMfa) throw stepUpRequired();
      if (password === undefined) {
        throw badRequest('The password is required to add a passkey.', [
          {
            path: '/body/password',
            message: 'is required unless a second factor was proven in the last 10 minutes',
          },
        ]);
      }
      const user = await findUserById(this.db, caller.id);
      if (!user || !(await this.deps.hasher.verify(password, user.passwordHash))) {
        throw badRequest('The password is incorrect.', [
          { path: '/body/password', message: 'is incorrect' },
        ]);
      }
    }
    const existing = await credentialIdsOf(this.db, caller.id);
    if (existing.length >= MAX_PASSKEYS) {
      throw conflict(`An account holds at most ${MAX_PASSKEYS} passkeys: delete one first.`);
    }
    const options = await generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: this.webauthn.rpId,
      userName: caller.email,
      userDisplayName: caller.fullName,
      userID: userHandleOf(caller.id),
      timeout: PASSKEY_CHALLENGE_TTL_SECONDS * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((row) => ({
        id: row.id,
        transports: row.transports as AuthenticatorTransportFuture[],
      })),
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    await insertChallenge(this.db, {
      purpose: 'register',
      userId: caller.id,
      sessionId: caller.sessionId,
      challenge: options.challenge,
      now,
      ttlSeconds: PASSKEY_CHALLENGE_TTL_SECONDS,
    });
    await pruneRegistrationChallenges(this.db, caller.sessionId, OPEN_REGISTRATIONS_PER_SESSION);
    // The wire schema types WebAuthn's JSON loosely (browsers extend it).
    return { publicKey: options as unknown as Record<string, unknown> };
  }

  /** Verifies `navigator.credentials.create()`'s answer to a challenge of this session. */
  async register(
    caller: Caller,
    name: string,
    credential: RegistrationResponseJSON,
    context: RequestContext,
  ) {
    const now = this.now();
    const challenge = quotedChallenge(credential.response.clientDataJSON);
    const taken =
      challenge !== undefined &&
      (await takeRegistrationChallenge(this.db, caller.id, caller.sessionId, challenge, now));
    if (!taken) {
      throw invalidToken(
        'The challenge is invalid, used, expired or not this session’s: ask POST /users/me/passkeys/options again.',
      );
    }
    let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
    try {
      const result = await verifyRegistrationResponse({
        response: credential,
        expectedChallenge: challenge,
        expectedOrigin: [...this.webauthn.origins],
        expectedRPID: this.webauthn.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
      info = result.verified ? result.registrationInfo : undefined;
    } catch (error) {
      throw refusedCredential((error as Error).message.slice(0, 200));
    }
    if (!info) throw refusedCredential('was not verified');
    const registered = info;
    return audited(this.db, this.deps.logger, context, async (tx, audit) => {
      if ((await countPasskeys(tx, caller.id)) >= MAX_PASSKEYS) {
        throw conflict(`An account holds at most ${MAX_PASSKEYS} passkeys: delete one first.`);
      }
      const row = await insertPasskey(tx, {
        userId: caller.id,
        credentialId: registered.credential.id,
        publicKey: Buffer.from(registered.credential.publicKey).toString('base64url'),
        counter: registered.credential.counter,
        transports: credential.response.transports ?? [],
        name: name.trim(),
        deviceType: registered.credentialDeviceType,
        backedUp: registered.credentialBackedUp,
        createdAt: now,
      });
      if (!row) throw conflict('This passkey is registered already.');
      audit({
        type: 'passkey.registered',
        actorId: caller.id,
        subjectId: caller.id,
        data: { passkeyId: row.id, sessionId: caller.sessionId, backedUp: row.backedUp },
      });
      return row;
    });
  }

  async remove(caller: Caller, id: string, context: RequestContext): Promise<void> {
    await audited(this.db, this.deps.logger, context, async (tx, audit) => {
      const gone = await deletePasskey(tx, caller.id, id);
      if (!gone) throw notFound('No such passkey.');
      audit({
        type: 'passkey.deleted',
        actorId: caller.id,
        subjectId: caller.id,
        data: { passkeyId: gone.id },
      });
    });
  }

  /** The options of `navigator.credentials.get()`: a challenge naming no user. */
  async signInOptions() {
    const now = this.now();
    const options = await generateAuthenticationOptions({
      rpID: this.webauthn.rpId,
      userVerification: 'required',
      timeout: PASSKEY_CHALLENGE_TTL_SECONDS * 1000,
      allowCredentials: [],
    });
    const challengeId = await insertChallenge(this.db, {
      purpose: 'sign_in',
      challenge: options.challenge,
      now,
      ttlSeconds: PASSKEY_CHALLENGE_TTL_SECONDS,
    });
    return {
      challengeId,
      expiresIn: PASSKEY_CHALLENGE_TTL_SECONDS,
      publicKey: options as unknown as Record<string, unknown>,
    };
  }

  /**
   * Signs in with a passkey: the challenge is taken first (one answer per challenge, right or
   * wrong), then the assertion is verified against the stored key, then the signature counter
   * must rise (a compare-and-set): a counter that does not is a cloned authenticator, refused
   * and audited. The session starts at aal2 with `amr: ["hwk"]`.
   */
  async verifySignIn(
    challengeId: string,
    credential: AuthenticationResponseJSON,
    context: RequestContext,
  ): Promise<TokenPair> {
    const now = this.now();
    const { logger } = this.deps;
    const challenge = await takeSignInChallenge(this.db, challengeId, now);
    if (!challenge) {
      throw invalidToken(
        'The challenge is invalid, used or expired: ask POST /auth/passkey/options again.',
      );
    }
    const passkey = await findPasskeyByCredentialId(this.db, credential.id);
    const refuse = async (reason: string) => {
      await recordAudit(this.db, logger, context, {
        type: 'auth.login_failed',
        subjectId: passkey?.userId ?? null,
        data: { method: 'passkey', reason, passkeyId: passkey?.id },
      });
      return invalidCredentials();
    };
    if (!passkey) throw await refuse('unknown_passkey');
    const handle = credential.response.userHandle;
    if (handle !== undefined && handle !== userHandleOf(passkey.userId).toString('base64url')) {
      throw await refuse('user_handle_mismatch');
    }
    let newCounter: number;
    try {
      const result = await verifyAuthenticationResponse({
        response: credential,
        expectedChallenge: challenge,
        expectedOrigin: [...this.webauthn.origins],
        expectedRPID: this.webauthn.rpId,
        // The counter is checked below, after the signature, and atomically.
        credential: {
          id: passkey.credentialId,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: 0,
          transports: passkey.transports as AuthenticatorTransportFuture[],
        },
        requireUserVerification: true,
      });
      if (!result.verified) throw new Error('not verified');
      newCounter = result.authenticationInfo.newCounter;
    } catch {
      throw await refuse('assertion_refused');
    }
    if (!(await advanceCounter(this.db, passkey.id, newCounter, now))) {
      await recordAudit(this.db, logger, context, {
        type: 'passkey.clone_refused',
        subjectId: passkey.userId,
        data: {
          passkeyId: passkey.id,
          storedCounter: passkey.counter,
          presentedCounter: newCounter,
        },
      });
      throw new AppError(
        401,
        'invalid_credentials',
        'This passkey’s signature counter did not advance: the authenticator may have been copied, so it was refused.',
      );
    }
    const user = await findUserById(this.db, passkey.userId);
    if (!user?.isActive) {
      await recordAudit(this.db, logger, context, {
        type: 'auth.login_failed',
        subjectId: passkey.userId,
        data: { method: 'passkey', reason: 'account_disabled' },
      });
      throw new AppError(403, 'account_disabled', 'This account has been disabled.');
    }
    if (!user.emailVerified) {
      throw new AppError(403, 'email_not_verified', 'Verify your email address before signing in.');
    }
    return this.deps.auth.signIn(
      user.id,
      context,
      { aal: 2, amr: ['hwk'], aal2At: now },
      { method: 'passkey', passkeyId: passkey.id },
    );
  }
}
