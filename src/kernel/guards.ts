import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AppError, unauthorized } from '../lib/errors.js';

/**
 * How strongly a session was authenticated (NIST SP 800-63B's authenticator assurance level):
 * `aal` 1 is a password alone, 2 a second factor (TOTP) or a passkey; `amr` lists the methods
 * used (RFC 8176 values: `pwd`, `otp`, `hwk`, `user`…); `aal2At` is when aal2 was last proven
 * (sign-in with a second factor, or step-up), null while the session has never reached it.
 * Kept on the session row, so refresh carries it over, and repeated in the access token.
 */
export interface Assurance {
  aal: 1 | 2;
  amr: string[];
  aal2At: Date | null;
}

/** The assurance of a session started by a password alone. */
export const PASSWORD_ONLY: Assurance = { aal: 1, amr: ['pwd'], aal2At: null };

/** How long a proof of aal2 counts for a sensitive action (step-up), in seconds. */
export const STEP_UP_MAX_AGE_SECONDS = 600;

/** The signed-in user as loaded on every authenticated request. */
export interface Caller {
  id: string;
  email: string;
  fullName: string;
  phone: string | null;
  emailVerified: boolean;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** The users row's version: with the roles and permissions, the ETag of GET /users/me. */
  version: number;
  roles: string[];
  permissions: string[];
  sessionId: string;
  sessionLastUsedAt: Date;
  /** The session's assurance: level, methods, when aal2 was last proven. */
  aal: 1 | 2;
  amr: string[];
  aal2At: Date | null;
  /**
   * Whether the user has a second factor: a confirmed TOTP (and, with passkeys, a passkey: the
   * caller query is the one place that says what counts). Such a user needs step-up for
   * sensitive actions.
   */
  hasMfa: boolean;
  /**
   * When the access token of this request expires (set by the auth plugin): a long-lived
   * response such as the notification stream ends then.
   */
  tokenExpiresAt?: Date;
}

/** 'public' routes need nothing; 'user' needs a signed-in user; anything else is a permission. */
export type AuthRequirement = 'public' | 'user' | `${string}:${string}`;

/**
 * What the auth plugin needs from the modules that own tokens, sessions and users; the
 * composition root hands it over, so the plugin imports no module.
 */
export interface CallerSource {
  verifyAccessToken(
    token: string,
  ): Promise<{ userId: string; sessionId: string; expiresAt?: Date }>;
  load(userId: string, sessionId: string, now: Date): Promise<Caller | undefined>;
  touchSession(sessionId: string, now: Date): Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest guard: any signed-in user. */
    requireUser: onRequestAsyncHookHandler;
    /** onRequest guard: a signed-in user whose roles grant `permission`. */
    requirePermission(permission: `${string}:${string}`): onRequestAsyncHookHandler;
    /**
     * onRequest guard declared after requireUser or requirePermission on a sensitive route: a
     * user with MFA must have proven aal2 within STEP_UP_MAX_AGE_SECONDS (403 step_up_required).
     */
    requireStepUp: onRequestAsyncHookHandler;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** The caller of a guarded route (the guard has run, so there is one). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw unauthorized();
  return request.caller;
}

/** Whether the caller proved aal2 recently enough for a sensitive action. */
export function hasFreshAal2(caller: Pick<Caller, 'aal2At'>, now: Date): boolean {
  if (!caller.aal2At) return false;
  const age = now.getTime() - caller.aal2At.getTime();
  return age <= STEP_UP_MAX_AGE_SECONDS * 1000;
}

/**
 * The step-up rule: a user with a second factor must have proven it within the last 10 minutes;
 * a user without one passes (there is nothing to step up with; MFA_REQUIRED_ROLES makes the
 * roles that need it enrol first).
 */
export function assertSteppedUp(caller: Caller, now: Date): void {
  if (!caller.hasMfa || hasFreshAal2(caller, now)) return;
  throw stepUpRequired();
}

export const stepUpRequired = () =>
  new AppError(
    403,
    'step_up_required',
    `This action needs a second factor proven within the last ${STEP_UP_MAX_AGE_SECONDS / 60} minutes: POST /auth/step-up, then retry.`,
  );
