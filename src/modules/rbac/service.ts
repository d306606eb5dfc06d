import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { notFound } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { voidOneTimeTokens } from '../auth/one-time-tokens.js';
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

  /**
   * Disabling signs the user out everywhere at once and voids the account's outstanding links;
   * the last active admin cannot be disabled.
   */
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
      await voidOneTimeTokens(tx, userId, isActive ? 'account_enabled' : 'account_disabled', now);
      await recordAudit(tx, this.logger, context, {
        type: isActive ? 'user.enabled' : 'user.disabled',
        actorId,
        subjectId: userId,
      });
    });
  }

  /** Idempotent: granting a role the user already holds changes nothing and records nothing. */
  async grant(actorId: string, userId: string, role: string, context: RequestContext) {
    const now = this.clock.now();
    await this.db.transaction(async (tx) => {
      if (!(await findUserById(tx, userId))) throw notFound('No such user.');
      if (await grantRole(tx, userId, role)) {
        await voidOneTimeTokens(tx, userId, 'role_granted', now);
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
    const now = this.clock.now();
    await this.db.transaction(async (tx) => {
      if (!(await findUserById(tx, userId))) throw notFound('No such user.');
      if (role === ADMIN_ROLE) await assertNotLastAdmin(tx, userId);
      if (await revokeRole(tx, userId, role)) {
        await voidOneTimeTokens(tx, userId, 'role_revoked', now);
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
