import formbody from '@fastify/formbody';
import type {
  FastifyPluginAsyncTypebox,
  TypeBoxTypeProvider,
} from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { callerOf } from '../../kernel/guards.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams, Message } from '../../lib/schemas.js';
import {
  EmailBody,
  LoginBody,
  LoginProblem,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
  Session,
  TokenBody,
  TokenPair,
} from './schemas.js';
import type { AuthService } from './service.js';

export const AUTH_BODY_LIMIT = 16_384;

const ACCEPTED = 'If the address can receive mail, a message is on its way.';

/** Public account flows: register, verify, login, refresh, forgot and reset. */
export const publicAuthRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService }> = async (
  app,
  { auth },
) => {
  // Anyone can send these; none needs more than a few hundred bytes. Refused on Content-Length,
  // a megabyte body is never read, decoded or parsed (each would cost the event loop ~15 ms).
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= AUTH_BODY_LIMIT;
  });

  app.post(
    '/auth/register',
    {
      config: app.rateLimits.auth('/auth/register'),
      preHandler: app.rateLimits.mailsPerEmail,
      schema: {
        tags: ['auth'],
        summary: 'Register',
        description:
          'Creates an account and mails a verification link. Answers 202 with the same body whether or not the email is taken (a taken one gets an "already registered" mail), so it reveals no accounts.',
        operationId: 'register',
        body: RegisterBody,
        response: { 202: Message, ...errors() },
      },
    },
    async (request, reply) => {
      await auth.register(request.body, requestContext(request));
      return reply.code(202).send({ message: `${ACCEPTED} Follow its link to verify your email.` });
    },
  );

  app.post(
    '/auth/verify-email',
    {
      config: app.rateLimits.auth('/auth/verify-email'),
      schema: {
        tags: ['auth'],
        summary: 'Verify email',
        description:
          'Marks the email verified. The token comes from the verification mail and works once.',
        operationId: 'verifyEmail',
        body: TokenBody,
        response: { 200: Message, ...errors() },
      },
    },
    async (request) => {
      await auth.verifyEmail(request.body.token, requestContext(request));
      return { message: 'Your email address is verified. You can now sign in.' };
    },
  );

  app.post(
    '/auth/resend-verification',
    {
      config: app.rateLimits.auth('/auth/resend-verification'),
      preHandler: app.rateLimits.mailsPerEmail,
      schema: {
        tags: ['auth'],
        summary: 'Resend verification mail',
        description:
          'Sends a new verification link (voiding older ones) to an unverified account. Same answer for any email.',
        operationId: 'resendVerification',
        body: EmailBody,
        response: { 202: Message, ...errors() },
      },
    },
    async (request, reply) => {
      await auth.resendVerification(request.body.email);
      return reply.code(202).send({ message: ACCEPTED });
    },
  );

  // The OAuth2 password form is accepted here only; every other route takes JSON alone.
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 8_192 });
    const login = scope.withTypeProvider<TypeBoxTypeProvider>();
    login.post(
      '/auth/login',
      {
        config: app.rateLimits.auth('/auth/login'),
        schema: {
          tags: ['auth'],
          summary: 'Log in',
          description:
            'Exchanges email and password for an access token (JWT) and a refresh token, at aal1 (`amr: ["pwd"]`). Accepts JSON `{ email, password }` or the OAuth2 password form (`username`, `password`). 401 `invalid_credentials` alike for an unknown email and a wrong password; 403 `email_not_verified` or `account_disabled` only after a correct password. For a user with two-factor sign-in, a correct password answers 401 `mfa_required` with a `challenge` (valid 5 minutes, once) instead of tokens: send it with a code to POST /auth/mfa/verify.',
          operationId: 'login',
          consumes: ['application/json', 'application/x-www-form-urlencoded'],
          body: LoginBody,
          response: {
            200: TokenPair,
            ...errors(401, 403),
            401: {
              description: 'Wrong credentials, or a second factor is needed (`mfa_required`)',
              content: { 'application/problem+json': { schema: LoginProblem } },
            },
          },
        },
      },
      async (request) => {
        const body = request.body;
        if ('email' in body) return auth.login(body.email, body.password, requestContext(request));
        return auth.login(body.username, body.password, requestContext(request), 'username');
      },
    );
  });

  app.post(
    '/auth/refresh',
    {
      config: app.rateLimits.auth('/auth/refresh'),
      schema: {
        tags: ['auth'],
        summary: 'Refresh tokens',
        description:
          'Exchanges a refresh token for a new pair. The presented token stops working (rotation); presenting an already-rotated token revokes the whole session.',
        operationId: 'refreshTokens',
        body: RefreshBody,
        response: { 200: TokenPair, ...errors(401) },
      },
    },
    async (request) => auth.refresh(request.body.refresh_token, requestContext(request)),
  );

  app.post(
    '/auth/forgot-password',
    {
      config: app.rateLimits.auth('/auth/forgot-password'),
      preHandler: app.rateLimits.mailsPerEmail,
      schema: {
        tags: ['auth'],
        summary: 'Request a password reset',
        description:
          'Mails a reset link (valid 30 minutes, voiding older ones) to a known account. Same answer for any email.',
        operationId: 'forgotPassword',
        body: EmailBody,
        response: { 202: Message, ...errors() },
      },
    },
    async (request, reply) => {
      await auth.forgotPassword(request.body.email, requestContext(request));
      return reply.code(202).send({ message: ACCEPTED });
    },
  );

  app.post(
    '/auth/reset-password',
    {
      config: app.rateLimits.auth('/auth/reset-password'),
      schema: {
        tags: ['auth'],
        summary: 'Reset the password',
        description:
          'Sets a new password with the token from the reset mail, and signs the user out of every session.',
        operationId: 'resetPassword',
        body: ResetPasswordBody,
        response: { 204: Type.Null({ description: 'Password changed' }), ...errors() },
      },
    },
    async (request, reply) => {
      await auth.resetPassword(
        request.body.token,
        request.body.newPassword,
        requestContext(request),
      );
      return reply.code(204).send(null);
    },
  );
};

/** Session management for the signed-in user. */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService }> = async (
  app,
  { auth },
) => {
  app.post(
    '/auth/logout',
    {
      onRequest: app.requireUser,
      config: { beforeMfaEnrolment: true },
      schema: {
        tags: ['auth'],
        summary: 'Log out',
        description:
          'Revokes the current session: its access and refresh tokens stop working at once.',
        operationId: 'logout',
        response: { 204: Type.Null({ description: 'Logged out' }), ...errors() },
      },
    },
    async (request, reply) => {
      await auth.logout(callerOf(request), requestContext(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/logout-all',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Log out everywhere',
        description: 'Revokes every session of the user, this one included.',
        operationId: 'logoutAll',
        response: { 204: Type.Null({ description: 'All sessions revoked' }), ...errors() },
      },
    },
    async (request, reply) => {
      await auth.logoutAll(callerOf(request), requestContext(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/sessions',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'List sessions',
        description:
          'The user’s live sessions, most recently used first; `current` marks this one.',
        operationId: 'listSessions',
        response: { 200: Type.Array(Session), ...errors() },
      },
    },
    async (request) => auth.sessions(callerOf(request)),
  );

  app.delete(
    '/auth/sessions/:id',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Revoke a session',
        description: 'Revokes one of the user’s own sessions. Another user’s session is 404.',
        operationId: 'revokeSession',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Session revoked' }), ...errors(404) },
      },
    },
    async (request, reply) => {
      await auth.revokeOwnSession(callerOf(request), request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );
};
