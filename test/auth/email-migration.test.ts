import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { users } from '../../src/db/schema.js';
import { describeUnfolded, findUnfoldedEmails } from '../../src/db/unfolded-emails.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser } from '../helpers/users.js';
import { GENEROUS_LIMITS, loginRequest } from './support.js';

/**
 * Rows written before addresses were canonical (only trimmed and lower-cased) are rewritten to
 * their NFKC form by migration 0007, unless that would take another row's address. The migration's
 * SQL is run again over rows written the old way, on whichever database the suite runs.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const MIGRATION = readFileSync(path.join(migrationsFolder, '0007_canonical_emails.sql'), 'utf8');
const fullwidth = (text: string) =>
  text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

async function emailsOf(tag: string) {
  const rows = await t.app.db
    .select({ email: users.email, verified: users.emailVerified })
    .from(users)
    .where(like(users.email, `%${tag}%`));
  return rows.map((row) => `${row.email}${row.verified ? ' (verified)' : ''}`).sort();
}

describe('migration 0007: stored addresses become canonical', () => {
  it('folds old spellings into free canonical addresses and leaves taken ones alone', async () => {
    const tag = randomBytes(4).toString('hex');
    // Written as the old code did: lower-cased, so fullwidth capitals became fullwidth small letters.
    const alone = await createUser(t, ['homeowner'], {
      email: fullwidth(`jane${tag}@example.com`),
    });
    await createUser(t, ['homeowner'], { email: `bob${tag}@example.com` });
    await createUser(t, ['homeowner'], { email: `${fullwidth('bob')}${tag}@example.com` });
    await createUser(t, ['homeowner'], {
      email: `${fullwidth('carl')}${tag}@example.com`,
      emailVerified: false,
    });
    await createUser(t, ['homeowner'], { email: `carl${tag}@${fullwidth('example')}.com` });

    await t.app.db.execute(sql.raw(MIGRATION));

    expect(await emailsOf(tag)).toEqual(
      [
        `jane${tag}@example.com (verified)`,
        `bob${tag}@example.com (verified)`,
        `${fullwidth('bob')}${tag}@example.com (verified)`,
        `carl${tag}@example.com (verified)`,
        `${fullwidth('carl')}${tag}@example.com`,
      ].sort(),
    );
    // The rewritten account signs in under its plain spelling, as under the fullwidth one.
    expect((await loginRequest(t, `jane${tag}@example.com`, alone.password)).statusCode).toBe(200);
    // A second run changes nothing.
    const before = await emailsOf(tag);
    await t.app.db.execute(sql.raw(MIGRATION));
    expect(await emailsOf(tag)).toEqual(before);

    // What it could not fold is reported, with the reason, for the operator to decide.
    const unfolded = (await findUnfoldedEmails(t.app.db)).filter((row) => row.email.includes(tag));
    const bob = unfolded.find((row) => row.email.startsWith(fullwidth('bob')));
    const carl = unfolded.find((row) => row.email.startsWith(fullwidth('carl')));
    expect(unfolded).toHaveLength(2);
    expect(bob).toMatchObject({ canonical: `bob${tag}@example.com`, takenBy: expect.any(String) });
    expect(carl).toMatchObject({ canonical: `carl${tag}@example.com`, emailVerified: false });
    expect(describeUnfolded(bob!)).toContain(`belongs to account ${bob?.takenBy}`);
  });
});
