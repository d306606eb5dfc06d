import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { emailChanges } from '../../db/schema.js';

/** The email_changes table: written here and nowhere else (the users module owns it). */

export type EmailChangeRow = typeof emailChanges.$inferSelect;

export async function insertEmailChange(
  db: Db,
  values: { userId: string; oldEmail: string; newEmail: string; createdAt: Date },
): Promise<EmailChangeRow> {
  const [row] = await db.insert(emailChanges).values(values).returning();
  if (!row) throw new Error('email change insert returned nothing');
  return row;
}

/** The change, locked until the transaction ends, so two uses of its links queue. */
export async function lockEmailChange(
  db: Db,
  id: string,
  userId: string,
): Promise<EmailChangeRow | undefined> {
  const [row] = await db
    .select()
    .from(emailChanges)
    .where(and(eq(emailChanges.id, id), eq(emailChanges.userId, userId)))
    .for('update');
  return row;
}

/** Compare-and-set: only a change neither confirmed nor reverted is confirmed. */
export async function markEmailChangeConfirmed(db: Db, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(emailChanges)
    .set({ confirmedAt: now })
    .where(
      and(
        eq(emailChanges.id, id),
        isNull(emailChanges.confirmedAt),
        isNull(emailChanges.revertedAt),
      ),
    )
    .returning({ id: emailChanges.id });
  return rows.length > 0;
}

export async function markEmailChangeReverted(db: Db, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(emailChanges)
    .set({ revertedAt: now })
    .where(and(eq(emailChanges.id, id), isNull(emailChanges.revertedAt)))
    .returning({ id: emailChanges.id });
  return rows.length > 0;
}
