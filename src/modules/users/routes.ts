import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  conditionalGet,
  expectedVersions,
  extraOf,
  notModified,
  setTag,
  versionTag,
} from '../../kernel/conditional.js';
import type { Caller } from '../../kernel/guards.js';
import { callerOf } from '../../kernel/guards.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, Message } from '../../lib/schemas.js';
import { TokenBody } from '../auth/schemas.js';
import type { EmailChangeService } from './email-change.js';
import {
  ChangeEmailBody,
  ChangePasswordBody,
  DeleteAccountBody,
  ProfilePatch,
  ProfileReplace,
  User,
} from './schemas.js';
import type { ProfileChanges, UsersService } from './service.js';

/** The caller as the `User` resource: the auth query already loaded every field. */
function asUser(caller: Caller) {
  const { sessionId: _session, sessionLastUsedAt: _lastUsed, ...user } = caller;
  return user;
}

/**
 * What the `User` holds beyond its row: the roles and permissions (user_grants, kept by triggers).
 * Every other field is a column of `users`, whose version moves on every update of the row.
 */
const grantsOf = (user: { roles: string[]; permissions: string[] }) =>
  extraOf(`${user.roles.join(',')}\0${user.permissions.join(',')}`);

/** The ETag of the `User`: the row's version and a digest of the grants. */
const userTag = (user: { version: number; roles: string[]; permissions: string[] }) =>
  versionTag(user.version, grantsOf(user));

/** The signed-in user's own account: /users/me. */
const usersRoutes: FastifyPluginAsyncTypebox<{
  users: UsersService;
  emailChanges: EmailChangeService;
}> = async (app, { users, emailChanges }) => {
  /** PUT and PATCH /users/me write the fields given (PUT's schema demands every one). */
  async function saveProfile(
    request: FastifyRequest,
    reply: FastifyReply,
    changes: ProfileChanges,
  ) {
    const caller = callerOf(request);
    const expected = expectedVersions(request, grantsOf(caller));
    const user = await users.updateProfile(caller, changes, requestContext(request), expected);
    setTag(reply, userTag(user));
    return user;
  }

  app.get(
    '/users/me',
    {
      onRequest: app.requireUser,
      config: { beforeMfaEnrolment: true, etag: true },
      schema: {
        tags: ['users'],
        summary: 'My profile',
        description: 'The signed-in user, with roles and permissions as they are now.',
        operationId: 'getMe',
        response: { 200: User, ...errors() },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (conditionalGet(request, reply, userTag(caller))) return notModified(reply);
      return asUser(caller);
    },
  );

  app.put(
    '/users/me',
    {
      onRequest: app.requireUser,
      config: { ifMatch: true },
      schema: {
        tags: ['users'],
        summary: 'Replace my profile',
        description:
          'Sets the editable profile fields (`fullName`, `phone`). Any other field is 400.',
        operationId: 'replaceMe',
        body: ProfileReplace,
        response: { 200: User, ...errors() },
      },
    },
    async (request, reply) => saveProfile(request, reply, request.body),
  );

  app.patch(
    '/users/me',
    {
      onRequest: app.requireUser,
      config: { ifMatch: true },
      schema: {
        tags: ['users'],
        summary: 'Update my profile',
        description: 'Changes any of `fullName`, `phone`. Any other field is 400.',
        operationId: 'updateMe',
        body: ProfilePatch,
        response: { 200: User, ...errors() },
      },
    },
    async (request, reply) => saveProfile(request, reply, request.body),
  );

  app.post(
    '/users/me/password',
    {
      onRequest: [app.requireUser, app.requireStepUp],
      schema: {
        tags: ['users'],
        summary: 'Change my password',
        description:
          'Needs the current password (a wrong one is 400). Signs out every other session of the user and mails a notice.',
        operationId: 'changePassword',
        body: ChangePasswordBody,
        response: { 204: Type.Null({ description: 'Password changed' }), ...errors() },
      },
    },
    async (request, reply) => {
      const { currentPassword, newPassword } = request.body;
      await users.changePassword(
        callerOf(request),
        currentPassword,
        newPassword,
        requestContext(request),
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/users/me/email',
    {
      onRequest: [app.requireUser, app.requireStepUp],
      preHandler: app.rateLimits.mailsPerEmail,
      schema: {
        tags: ['users'],
        summary: 'Change my email address',
        description:
          'Needs the password (a wrong one is 400) and, for a user with two-factor sign-in, a step-up within the last 10 minutes (403 step_up_required). Mails a confirmation link (24 hours, single use) to the new address and a notice with a "this wasn\'t me" link (7 days) to the current one. The address changes only when the link is followed. Answers 202 alike whether or not the new address is taken.',
        operationId: 'changeEmail',
        body: ChangeEmailBody,
        response: { 202: Message, ...errors() },
      },
    },
    async (request, reply) => {
      const { password, newEmail } = request.body;
      await emailChanges.request(callerOf(request), password, newEmail, requestContext(request));
      return reply.code(202).send({
        message:
          'If the new address can receive mail, a confirmation link is on its way to it. Your address changes when you follow it.',
      });
    },
  );

  app.post(
    '/users/me/email/confirm',
    {
      config: app.rateLimits.auth('/users/me/email/confirm'),
      schema: {
        tags: ['users'],
        summary: 'Confirm an email change',
        description:
          'The token from the mail sent to the new address; no bearer token needed. Moves the account to the new address. 400 `invalid_token` for an unknown, used or expired link; 409 `conflict` when another account took the address meanwhile.',
        operationId: 'confirmEmailChange',
        body: TokenBody,
        response: { 200: Message, ...errors(409) },
      },
    },
    async (request) => {
      await emailChanges.confirm(request.body.token, requestContext(request));
      return { message: 'Your email address is changed. Sign in with the new address.' };
    },
  );

  app.post(
    '/users/me/email/revert',
    {
      config: app.rateLimits.auth('/users/me/email/revert'),
      schema: {
        tags: ['users'],
        summary: 'Undo an email change ("this wasn\'t me")',
        description:
          'The token from the notice sent to the old address; no bearer token needed. Keeps or restores the old address, revokes every session, replaces the password and mails a reset link to the old address. 409 `conflict` when another account registered the old address meanwhile.',
        operationId: 'revertEmailChange',
        body: TokenBody,
        response: { 200: Message, ...errors(409) },
      },
    },
    async (request) => {
      await emailChanges.revert(request.body.token, requestContext(request));
      return {
        message:
          'The change is undone and every session is signed out. A link to choose a new password is on its way to your address.',
      };
    },
  );

  app.delete(
    '/users/me',
    {
      onRequest: [app.requireUser, app.requireStepUp],
      schema: {
        tags: ['users'],
        summary: 'Delete my account',
        description:
          'Needs the password. Deletes the account and everything it owns (sessions, properties, services). The last active admin cannot delete itself (409).',
        operationId: 'deleteMe',
        body: DeleteAccountBody,
        response: { 204: Type.Null({ description: 'Account deleted' }), ...errors(409) },
      },
    },
    async (request, reply) => {
      await users.deleteAccount(callerOf(request), request.body.password, requestContext(request));
      return reply.code(204).send(null);
    },
  );
};

export default usersRoutes;
