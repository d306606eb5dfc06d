import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { callerOf } from '../../kernel/guards.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import type { MfaService } from '../mfa/service.js';
import type { PasskeysService } from '../passkeys/service.js';
import { AdminUser, User } from '../users/schemas.js';
import type { UsersService } from '../users/service.js';
import {
  AuditEvent,
  AuditQuery,
  GrantRoleBody,
  Role,
  UserListQuery,
  UserRoleParams,
  UserStatusPatch,
} from './schemas.js';
import type { AdminService } from './service.js';

/** /admin/*: user administration, role assignment and the audit trail. */
const adminRoutes: FastifyPluginAsyncTypebox<{
  admin: AdminService;
  users: UsersService;
  mfa: MfaService;
  passkeys: Pick<PasskeysService, 'count'>;
}> = async (app, { admin, users, mfa, passkeys }) => {
  const userOr404 = (id: string) => users.get(id, 'No such user.');

  app.get(
    '/admin/users',
    {
      onRequest: app.requirePermission('users:read'),
      schema: {
        tags: ['admin'],
        summary: 'List users',
        description:
          'Every account, newest first, filtered by email prefix and/or role; keyset pages.',
        operationId: 'adminListUsers',
        querystring: UserListQuery,
        response: { 200: Page(User), ...errors() },
      },
    },
    async (request) => {
      const { email, role, limit = 20, cursor } = request.query;
      const rows = await users.list({
        email,
        role,
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  app.get(
    '/admin/users/:id',
    {
      onRequest: app.requirePermission('users:read'),
      schema: {
        tags: ['admin'],
        summary: 'Get a user',
        description:
          'One account with its roles and permissions, whether it has TOTP and how many passkeys (never a secret or key).',
        operationId: 'adminGetUser',
        params: IdParams,
        response: { 200: AdminUser, ...errors(404) },
      },
    },
    async (request) => {
      const user = await userOr404(request.params.id);
      const [{ totp }, passkeyCount] = await Promise.all([
        mfa.status(user.id),
        passkeys.count(user.id),
      ]);
      return { ...user, mfa: { totp, passkeys: passkeyCount } };
    },
  );

  app.patch(
    '/admin/users/:id',
    {
      onRequest: [app.requirePermission('users:manage'), app.requireStepUp],
      schema: {
        tags: ['admin'],
        summary: 'Enable or disable a user',
        description:
          'Disabling signs the user out of every session at once; the last active admin cannot be disabled (409).',
        operationId: 'adminUpdateUser',
        params: IdParams,
        body: UserStatusPatch,
        response: { 200: User, ...errors(404, 409) },
      },
    },
    async (request) => {
      return users.setActive(
        callerOf(request).id,
        request.params.id,
        request.body.isActive,
        requestContext(request),
      );
    },
  );

  app.get(
    '/admin/roles',
    {
      onRequest: app.requirePermission('roles:assign'),
      schema: {
        tags: ['admin'],
        summary: 'List roles',
        description: 'Every role with the permissions it grants, as stored in the database.',
        operationId: 'adminListRoles',
        response: { 200: Type.Array(Role), ...errors() },
      },
    },
    async () => admin.roles(),
  );

  app.post(
    '/admin/users/:id/roles',
    {
      onRequest: [app.requirePermission('roles:assign'), app.requireStepUp],
      schema: {
        tags: ['admin'],
        summary: 'Grant a role',
        description:
          'Idempotent: granting a role the user holds answers 200 and changes nothing. Unknown role: 400.',
        operationId: 'adminGrantRole',
        params: IdParams,
        body: GrantRoleBody,
        response: { 200: User, ...errors(404) },
      },
    },
    async (request) => {
      await admin.assertRoleExists(request.body.role, '/body/role');
      await admin.grant(
        callerOf(request).id,
        request.params.id,
        request.body.role,
        requestContext(request),
      );
      return userOr404(request.params.id);
    },
  );

  app.delete(
    '/admin/users/:id/roles/:role',
    {
      onRequest: [app.requirePermission('roles:assign'), app.requireStepUp],
      schema: {
        tags: ['admin'],
        summary: 'Revoke a role',
        description:
          'Removes a role from the user (204 even if they did not hold it). Removing admin from the last active admin is 409.',
        operationId: 'adminRevokeRole',
        params: UserRoleParams,
        response: { 204: Type.Null({ description: 'Role revoked' }), ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      await admin.assertRoleExists(request.params.role, '/params/role');
      await admin.revoke(
        callerOf(request).id,
        request.params.id,
        request.params.role,
        requestContext(request),
      );
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/admin/audit-events',
    {
      onRequest: app.requirePermission('audit:read'),
      schema: {
        tags: ['admin'],
        summary: 'Read the audit trail',
        description:
          'Security events, newest first: registrations, verifications, logins and failures, refresh reuse, logouts, password changes and resets, role grants and revocations, disables. `userId` matches actor or subject.',
        operationId: 'adminListAuditEvents',
        querystring: AuditQuery,
        response: { 200: Page(AuditEvent), ...errors() },
      },
    },
    async (request) => {
      const { userId, type, limit = 20, cursor } = request.query;
      const rows = await admin.auditEvents({
        userId,
        type,
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );
};

export default adminRoutes;
