import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { unauthorized } from '../lib/errors.js';

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
  roles: string[];
  permissions: string[];
  sessionId: string;
  sessionLastUsedAt: Date;
}

/** 'public' routes need nothing; 'user' needs a signed-in user; anything else is a permission. */
export type AuthRequirement = 'public' | 'user' | `${string}:${string}`;

/**
 * What the auth plugin needs from the modules that own tokens, sessions and users; the
 * composition root hands it over, so the plugin imports no module.
 */
export interface CallerSource {
  verifyAccessToken(token: string): Promise<{ userId: string; sessionId: string }>;
  load(userId: string, sessionId: string, now: Date): Promise<Caller | undefined>;
  touchSession(sessionId: string, now: Date): Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest guard: any signed-in user. */
    requireUser: onRequestAsyncHookHandler;
    /** onRequest guard: a signed-in user whose roles grant `permission`. */
    requirePermission(permission: `${string}:${string}`): onRequestAsyncHookHandler;
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
