import { createHmac } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import {
  auditEvents,
  mailOutbox,
  oneTimeTokens,
  refreshTokens,
  sessions,
  users,
} from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';

/**
 * Shared vocabulary of the accounts & authentication specification (test/auth, test/users):
 * small request helpers, database readers and a JWT forge. Every test drives the real app.
 */

/**
 * Rate limits are specified by their own tests; here they would only get in the way of flows
 * that make many requests from one address. Unknown variables are ignored by loadConfig.
 */
export const GENEROUS_LIMITS: Record<string, string> = {
  RATE_LIMIT_GLOBAL_MAX: '1000000',
  RATE_LIMIT_AUTH_MAX: '100000',
  RATE_LIMIT_LOGIN_FAILURES: '10000',
  RATE_LIMIT_MAILS_PER_EMAIL: '10000',
};

export type Response = LightMyRequestResponse;

export const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });

export function post(t: TestContext, url: string, payload?: unknown, token?: string) {
  return t.app.inject({
    method: 'POST',
    url,
    ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
    ...(token && { headers: bearer(token) }),
  });
}

export function get(t: TestContext, url: string, token?: string) {
  return t.app.inject({ method: 'GET', url, ...(token && { headers: bearer(token) }) });
}

export const me = (t: TestContext, accessToken: string) => get(t, '/users/me', accessToken);

export const refresh = (t: TestContext, refreshToken: string) =>
  post(t, '/auth/refresh', { refresh_token: refreshToken });

export const loginRequest = (t: TestContext, email: string, password: string) =>
  post(t, '/auth/login', { email, password });

export { expectProblem, expectUnauthorized } from '../helpers/problems.js';

/** The raw body with this response's request id blanked: what must match byte for byte. */
export function bodyWithoutRequestId(res: Response): string {
  const id = String(res.headers['x-request-id']);
  return res.body.split(`"requestId":"${id}"`).join('"requestId":"…"');
}

export interface RegisteredUser {
  email: string;
  password: string;
}

export function registerRequest(
  t: TestContext,
  overrides: Partial<Record<'email' | 'password' | 'fullName' | 'role', string>> = {},
) {
  return post(t, '/auth/register', {
    email: overrides.email ?? uniqueEmail('reg'),
    password: overrides.password ?? STRONG_PASSWORD,
    fullName: overrides.fullName ?? 'Reg Istered',
    role: overrides.role ?? 'homeowner',
  });
}

/** Registers through the API and returns the verification token from the mail it sent. */
export async function registerAndReadToken(
  t: TestContext,
  email = uniqueEmail('reg'),
  password = STRONG_PASSWORD,
): Promise<RegisteredUser & { token: string }> {
  const res = await registerRequest(t, { email, password });
  expect(res.statusCode, res.body).toBe(202);
  const mail = await nextMail(t, email, /confirm your email/i);
  return { email, password, token: tokenFrom(mail) };
}

/** Registers and verifies through the API, as a real user would. */
export async function registerVerified(
  t: TestContext,
  email = uniqueEmail('reg'),
  password = STRONG_PASSWORD,
): Promise<RegisteredUser> {
  const { token } = await registerAndReadToken(t, email, password);
  const res = await post(t, '/auth/verify-email', { token });
  expect(res.statusCode, res.body).toBe(200);
  return { email, password };
}

/** The next mail to `email` whose subject matches, passing over others (e.g. notices). */
export async function nextMail(t: TestContext, email: string, subject: RegExp) {
  for (;;) {
    const mail = await t.mailbox.next(email);
    if (subject.test(mail.subject)) return mail;
  }
}

/** Asks for a reset link and returns the token it carries. */
export async function resetTokenFor(t: TestContext, email: string): Promise<string> {
  const res = await post(t, '/auth/forgot-password', { email });
  expect(res.statusCode, res.body).toBe(202);
  return tokenFrom(await nextMail(t, email, /reset your password/i));
}

/** The session id (`sid`) an access token carries. */
export const sessionIdOf = (accessToken: string) => String(decodeJwt(accessToken).sid);

// ---- database readers: the tests check rows, not only statuses -------------------------------

export async function userRow(t: TestContext, email: string) {
  const [row] = await t.app.db.select().from(users).where(eq(users.email, email.toLowerCase()));
  return row;
}

export async function sessionRow(t: TestContext, id: string) {
  const [row] = await t.app.db.select().from(sessions).where(eq(sessions.id, id));
  return row;
}

export async function refreshRows(t: TestContext, sessionId: string) {
  return t.app.db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, sessionId));
}

export async function oneTimeRows(t: TestContext, userId: string) {
  return t.app.db.select().from(oneTimeTokens).where(eq(oneTimeTokens.userId, userId));
}

export async function outboxRows(t: TestContext, recipient: string) {
  return t.app.db
    .select()
    .from(mailOutbox)
    .where(eq(mailOutbox.recipient, recipient.toLowerCase()));
}

export async function outboxRowsOf(t: TestContext, recipient: string, template: string) {
  return t.app.db
    .select()
    .from(mailOutbox)
    .where(
      and(eq(mailOutbox.recipient, recipient.toLowerCase()), eq(mailOutbox.template, template)),
    );
}

export async function auditRows(t: TestContext, type: string) {
  return t.app.db.select().from(auditEvents).where(eq(auditEvents.type, type));
}

/** The types of the audit events about a user, in no set order. */
export async function auditTypesOf(t: TestContext, userId: string): Promise<string[]> {
  const rows = await t.app.db
    .select({ type: auditEvents.type })
    .from(auditEvents)
    .where(eq(auditEvents.subjectId, userId));
  return rows.map((row) => row.type);
}

// ---- the JWT forge -------------------------------------------------------------------------

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export type JwtHeader = Record<string, unknown>;
export type JwtPayload = Record<string, unknown>;

/** A JWT signed with HMAC over exactly the header and payload given: nothing added, nothing checked. */
export function hmacJwt(
  header: JwtHeader,
  payload: JwtPayload,
  key: string | Buffer,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = createHmac(hash, key).update(input).digest('base64url');
  return `${input}.${signature}`;
}

/** `alg: none`: a header and payload with an empty signature. */
export const unsignedJwt = (header: JwtHeader, payload: JwtPayload) =>
  `${b64url(header)}.${b64url(payload)}.`;

export const ACCESS_HEADER: JwtHeader = { alg: 'HS256', typ: 'at+jwt' };

/** The claims the service itself puts in an access token, valid now on the test clock. */
export function accessClaims(t: TestContext, userId: string, sessionId: string): JwtPayload {
  const now = Math.floor(t.clock.now().getTime() / 1000);
  return {
    sub: userId,
    sid: sessionId,
    token_use: 'access',
    iss: 'homefront',
    aud: 'homefront-api',
    iat: now,
    nbf: now,
    exp: now + t.config.accessTokenTtl,
  };
}
