import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Caller } from '../../kernel/guards.js';
import { callerOf } from '../../kernel/guards.js';
import { requestContext } from '../../lib/request-context.js';
import { errors } from '../../lib/schemas.js';
import {
  ChangePasswordBody,
  DeleteAccountBody,
  ProfilePatch,
  ProfileReplace,
  User,
} from './schemas.js';
import type { UsersService } from './service.js';

/** The caller as the `User` resource: the auth query already loaded every field. */
function asUser(caller: Caller) {
  const { sessionId: _session, sessionLastUsedAt: _lastUsed, ...user } = caller;
  return user;
}

/** The signed-in user's own account: /users/me. */
const usersRoutes: FastifyPluginAsyncTypebox<{ users: UsersService }> = async (app, { users }) => {
  app.get(
    '/users/me',
    {
      onRequest: app.requireUser,
      config: { beforeMfaEnrolment: true },
      schema: {
        tags: ['users'],
        summary: 'My profile',
        description: 'The signed-in user, with roles and permissions as they are now.',
        operationId: 'getMe',
        response: { 200: User, ...errors() },
      },
    },
    async (request) => asUser(callerOf(request)),
  );

  app.put(
    '/users/me',
    {
      onRequest: app.requireUser,
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
    async (request) =>
      users.updateProfile(callerOf(request), request.body, requestContext(request)),
  );

  app.patch(
    '/users/me',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['users'],
        summary: 'Update my profile',
        description: 'Changes any of `fullName`, `phone`. Any other field is 400.',
        operationId: 'updateMe',
        body: ProfilePatch,
        response: { 200: User, ...errors() },
      },
    },
    async (request) =>
      users.updateProfile(callerOf(request), request.body, requestContext(request)),
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
