import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { uniqueEmail } from '../helpers/users.js';
import { cliStore, runCli } from './cli-runner.js';

/** create-admin used wrongly: a usage line and exit 2, or a reason and exit 1; never an admin. */

describe('create-admin used wrongly', { timeout: 240_000 }, () => {
  it.each([
    ['without --email', ['create-admin']],
    ['with --email but no address', ['create-admin', '--email', '']],
    ['without a command', []],
    ['with an unknown command', ['create-user', '--email', 'x@example.com']],
  ])('%s: prints the usage and exits 2', async (_case, args) => {
    const run = await runCli(args, { stdin: 'a long admin password 1234\n' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^usage: .*create-admin --email/);
  });

  it.each([
    ['a commonly used password', '123qweasdzxc\n', /commonly used/],
    ['nothing on standard input', '', /at least 8 characters/],
  ])('with %s: exits 1 with the reason, and creates nobody', async (_case, stdin, reason) => {
    const store = await cliStore();
    try {
      const email = uniqueEmail('cli');
      const run = await runCli(['create-admin', '--email', email], { env: store.env, stdin });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^create-admin failed: /);
      expect(run.stderr).toMatch(reason);

      const database = await store.open();
      try {
        expect(await database.db.select().from(users).where(eq(users.email, email))).toEqual([]);
      } finally {
        await database.close();
      }
    } finally {
      await store.drop();
    }
  });
});
