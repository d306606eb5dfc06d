import type { Db } from '../db/client.js';
import type { PasswordHasher } from '../modules/auth/passwords.js';
import { insertProperty } from '../modules/properties/repository.js';
import { grantRole } from '../modules/rbac/repository.js';
import { normalisePostalCode } from '../modules/services/input.js';
import { insertService } from '../modules/services/repository.js';
import { insertUser } from '../modules/users/repository.js';
import { DEMO_PASSWORD, DEMO_USERS, type DemoUser } from './demo-data.js';

export interface SeedOutcome {
  /** Demo accounts made by this run; the others existed already and were left as they are. */
  created: string[];
  logins: Array<{ email: string; role: DemoUser['role']; password: string }>;
}

/**
 * Adds the demo accounts with their properties and services. Idempotent: an account that exists
 * (by email) is left alone with whatever it holds now, so a second run adds nothing and a demo
 * account the developer changed keeps its changes.
 */
/** Demo providers have no reviews: their services rank at the default prior mean. */
const DEMO_RATING_PRIOR = 3.5;

export async function seedDemoData(db: Db, hasher: PasswordHasher): Promise<SeedOutcome> {
  const passwordHash = await hasher.hash(DEMO_PASSWORD);
  const created: string[] = [];
  for (const demo of DEMO_USERS) {
    const made = await db.transaction(async (tx) => {
      const user = await insertUser(tx, {
        email: demo.email,
        fullName: demo.fullName,
        passwordHash,
        emailVerified: true,
      });
      if (!user) return false;
      await grantRole(tx, user.id, demo.role);
      for (const property of demo.properties ?? []) await insertProperty(tx, user.id, property);
      for (const service of demo.services ?? []) {
        await insertService(
          tx,
          user.id,
          { ...service, postalCodes: service.postalCodes.map(normalisePostalCode) },
          DEMO_RATING_PRIOR,
        );
      }
      return true;
    });
    if (made) created.push(demo.email);
  }
  return {
    created,
    logins: DEMO_USERS.map(({ email, role }) => ({ email, role, password: DEMO_PASSWORD })),
  };
}
