import { randomBytes, randomUUID } from 'node:crypto';
import { PasswordHasher } from '../../../src/modules/auth/passwords.js';
import { BCRYPT_COST, PASSWORD_PEPPER } from './app-process.js';
import type { PrivatePostgres } from './private-postgres.js';

export const PASSWORD = 'fault tolerant horse battery 42';

const hasher = new PasswordHasher(PASSWORD_PEPPER, BCRYPT_COST);

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** A verified, active user inserted with SQL (hashed as the app would, same pepper and cost). */
export async function insertUser(
  pg: PrivatePostgres,
  options: { email?: string; password?: string; roles?: string[]; fullName?: string } = {},
): Promise<{ id: string; email: string; password: string }> {
  const id = randomUUID();
  const email = (options.email ?? uniqueEmail()).toLowerCase();
  const password = options.password ?? PASSWORD;
  await pg.query(
    `insert into users (id, email, full_name, password_hash, email_verified, is_active)
     values ($1, $2, $3, $4, true, true)`,
    [id, email, options.fullName ?? 'Fault Tester', await hasher.hash(password)],
  );
  for (const role of options.roles ?? ['homeowner']) {
    await pg.query('insert into user_roles (user_id, role_name) values ($1, $2)', [id, role]);
  }
  return { id, email, password };
}
