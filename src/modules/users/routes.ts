import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { notFound } from '../../lib/errors.js';
import { requestContext } from '../../lib/request-context.js';
import { errors } from '../../lib/schemas.js';
import { callerOf } from '../../plugins/auth.js';
import { recordAudit } from '../rbac/audit.js';
import type { Caller } from './caller.js';
import { findUserView, updateProfile } from './repository.js';
import {
  ChangePasswordBody,
  DeleteAccountBody,
  ProfilePatch,
  ProfileReplace,
  User,
} from './schemas.js';

/** The caller as the `User` resource: the auth query already loaded every field. */
function asUser(caller: Caller) {
  const { sessionId: _session, sessionLastUsedAt: _lastUsed, ...user } = caller;
  return user;
}

type ProfileChanges = { fullName?: string; phone?: string | null };

const trimmed = (changes: ProfileChanges): ProfileChanges => ({
  ...(changes.fullName !== undefined && { fullName: changes.fullName.trim() }),
  ...(changes.phone !== undefined && { phone: changes.phone?.trim() ?? null }),
});

/** The signed-in user's own account: /users/me. */
const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The change and its audit row in one transaction. */
  const saveProfile = async (request: FastifyRequest, changes: ProfileChanges) => {
    const caller = callerOf(request);
    await app.db.transaction(async (tx) => {
      await updateProfile(tx, caller.id, changes);
      await recordAudit(tx, app.log, requestContext(request), {
        type: 'user.profile_updated',
        actorId: caller.id,
        subjectId: caller.id,
        data: { fields: Object.keys(changes) },
      });
    });
  };

  const updated = async (id: string) => {
    const user = await findUserView(app.db, id);
    if (!user) throw notFound();
    return user;
  };

  app.get(
    '/users/me',
    {
      onRequest: app.requireUser,
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
    async (request) => {
      await saveProfile(request, trimmed(request.body));
      return updated(callerOf(request).id);
    },
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
    async (request) => {
      await saveProfile(request, trimmed(request.body));
      return updated(callerOf(request).id);
    },
  );

  app.post(
    '/users/me/password',
    {
      onRequest: app.requireUser,
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
      await app.authService.changePassword(
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
      onRequest: app.requireUser,
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
      await app.authService.deleteAccount(
        callerOf(request),
        request.body.password,
        requestContext(request),
      );
      return reply.code(204).send(null);
    },
  );
};

export default usersRoutes;
