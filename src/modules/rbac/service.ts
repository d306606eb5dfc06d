import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import { type AuditFilter, audited, listAuditEvents } from '../../kernel/audit.js';
import type { Clock } from '../../lib/clock.js';
import { badRequest, notFound } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { voidOneTimeTokens } from '../auth/one-time-tokens.js';
import { findUserById } from '../users/repository.js';
import {
  ADMIN_ROLE,
  assertNotLastAdmin,
  grantRole,
  listRoles,
  revokeRole,
  roleExists,
} from './repository.js';

/** Roles and the audit trail: each change is one transaction with its audit row. */
export class AdminService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: FastifyBaseLogger,
  ) {}

  roles() {
    return listRoles(this.db);
  }

  /** 400 naming `path` (where the request gave the role) when no such role exists. */
  async assertRoleExists(role: string, path: string): Promise<void> {
    if (!(await roleExists(this.db, role)))
      throw badRequest('No such role.', [{ path, message: 'is not a role' }]);
  }

  auditEvents(filter: AuditFilter) {
    return listAuditEvents(this.db, filter);
  }

  /** Idempotent: granting a role the user already holds changes nothing and records nothing. */
  async grant(actorId: string, userId: string, role: string, context: RequestContext) {
    const now = this.clock.now();
    await audited(this.db, this.logger, context, async (tx, audit) => {
      if (!(await findUserById(tx, userId))) throw notFound('No such user.');
      if (await grantRole(tx, userId, role)) {
        await voidOneTimeTokens(tx, userId, 'role_granted', now);
        audit({
          type: 'role.granted',
          actorId,
          subjectId: userId,
          data: { role },
        });
      }
    });
  }

  async revoke(actorId: string, userId: string, role: string, context: RequestContext) {
    const now = this.clock.now();
    await audited(this.db, this.logger, context, async (tx, audit) => {
      if (!(await findUserById(tx, userId))) throw notFound('No such user.');
      if (role === ADMIN_ROLE) await assertNotLastAdmin(tx, userId);
      if (await revokeRole(tx, userId, role)) {
        await voidOneTimeTokens(tx, userId, 'role_revoked', now);
        audit({
          type: 'role.revoked',
          actorId,
          subjectId: userId,
          data: { role },
        });
      }
    });
  }
}
