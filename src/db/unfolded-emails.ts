import { asc } from 'drizzle-orm';
import { canonicalEmail } from '../lib/email.js';
import type { Db } from './client.js';
import { users } from './schema.js';

export interface UnfoldedEmail {
  id: string;
  email: string;
  emailVerified: boolean;
  createdAt: Date;
  /** The canonical form, or null when the address is no longer accepted at all. */
  canonical: string | null;
  /** The account that holds the canonical form, when another one does. */
  takenBy: string | null;
}

/**
 * Accounts whose stored address is not in its canonical form (src/lib/email.ts): what migration
 * 0007 could not fold, because the canonical address was taken, the domain needs IDNA (which SQL
 * cannot do) or the syntax is no longer accepted. Nobody can sign in to them by address; the
 * operator decides (docs/operations.md, "Addresses that migration 0007 could not fold"). Reads
 * every row: an operator's check, run by `npm run cli -- emails-unfolded`, `npm run db:migrate`
 * and once at a start that applied migrations.
 */
export async function findUnfoldedEmails(db: Db): Promise<UnfoldedEmail[]> {
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      emailVerified: users.emailVerified,
      createdAt: users.createdAt,
    })
    .from(users)
    .orderBy(asc(users.createdAt));
  const owners = new Map(rows.map((row) => [row.email, row.id]));
  return rows.flatMap((row) => {
    const canonical = canonicalEmail(row.email) ?? null;
    if (canonical === row.email) return [];
    const holder = canonical === null ? undefined : owners.get(canonical);
    return [{ ...row, canonical, takenBy: holder ?? null }];
  });
}

/** One line per account, for a terminal or a log. */
export function describeUnfolded(row: UnfoldedEmail): string {
  const why =
    row.canonical === null
      ? 'not an address the service accepts any more'
      : row.takenBy
        ? `canonical ${row.canonical} belongs to account ${row.takenBy}`
        : `canonical ${row.canonical} is free`;
  return `${row.id} ${JSON.stringify(row.email)}${row.emailVerified ? ' (verified)' : ''}: ${why}`;
}
