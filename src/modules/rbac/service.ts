import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { notFound } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { revokeUserSessions } from '../auth/sessions.js';
import { findUserById } from '../users/repository.js';
import { recordAudit } from './audit.js';
import {
  ADMIN_ROLE,
  assertNotLastAdmin,
  grantRole,
  revokeRole,
  setUserActive,
} from './repository.js';

/** Administrative changes: each is one transaction with its audit row. */
export class AdminService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Disabling signs the user out everywhere at once; the last active admin cannot be disabled. */
  async setActive(actorId: string, userId: string, isActive: boolean, context: RequestContext) {
    const now = this.clock.now();
    await this.db.transaction(async (tx) => {
      const user = await findUserById(tx, userId);
      if (!user) throw notFound('No such user.');
      if (user.isActive === isActive) return;
      if (!isActive) {
        await assertNotLastAdmin(tx, userId);
        await revokeUserSessions(tx, userId, 'account_disabled', now);
      }
      await setUserActive(tx, userId, isActive);
      await recordAudit(tx, this.logger, context, {
        type: isActive ? 'user.enabled' : 'user.disabled',
        actorId,
        subjectId: userId,
      });
    });
  }

  /** Idempotent: granting a role the user already holds changes nothing and records nothing. */
  async grant(actorId: string, userId: string, role: string, context: RequestContext) {
    await this.db.transaction(async (tx) => {
      if (!(await findUserById(tx, userId))) throw notFound('No such user.');
      if (await grantRole(tx, userId, role)) {
        await recordAudit(tx, this.logger, context, {
          type: 'role.granted',
          actorId,
          subjectId: userId,
          data: { role },
        });
      }
    });
  }

  async revoke(actorId: string, userId: string, role: string, context: RequestContext) {
    await this.db.transaction(async (tx) => {
      if (!(await findUserById(tx, userId))) throw notFound('No such user.');
      if (role === ADMIN_ROLE) await assertNotLastAdmin(tx, userId);
      if (await revokeRole(tx, userId, role)) {
        await recordAudit(tx, this.logger, context, {
          type: 'role.revoked',
          actorId,
          subjectId: userId,
          data: { role },
        });
      }
    });
  }
}
