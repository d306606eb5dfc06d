import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { users } from '../db/schema.js';

/**
 * Where a mail to a user goes: the address and the name to greet, for the modules that mail
 * the parties of what they own (the marketplace's transitions, a new message). Undefined when
 * there is no user or the account is gone: nobody to tell.
 */
export async function contactOf(
  db: Db,
  userId: string | null,
): Promise<{ email: string; fullName: string } | undefined> {
  if (!userId) return undefined;
  const [row] = await db
    .select({ email: users.email, fullName: users.fullName })
    .from(users)
    .where(eq(users.id, userId));
  return row;
}
