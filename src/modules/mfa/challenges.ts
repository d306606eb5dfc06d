import type { Db } from '../../db/client.js';
import { MFA_CHALLENGE_TTL_SECONDS } from '../auth/service.js';
import { hasConfirmedTotp, issueChallenge } from './repository.js';

/**
 * What the password sign-in asks of this module: for a user with a second factor, a challenge
 * that POST /auth/mfa/verify answers. Built without the auth service, which it serves.
 */
export class SignInChallenges {
  constructor(private readonly db: Db) {}

  async challengeFor(userId: string, now: Date): Promise<string | undefined> {
    if (!(await hasConfirmedTotp(this.db, userId))) return undefined;
    return issueChallenge(this.db, userId, MFA_CHALLENGE_TTL_SECONDS, now);
  }
}
