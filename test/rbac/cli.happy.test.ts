import { describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { createTestApp } from '../helpers/app.js';
import { login, uniqueEmail } from '../helpers/users.js';
import { cliStore, runCli } from './cli-runner.js';
import { SEEDED_PERMISSIONS, send } from './support.js';

/**
 * `npm run cli -- create-admin --email <email> [--name <name>]`: the operator's way to make an
 * admin, password typed on standard input (never an argument: arguments show up in `ps`).
 * Against PostgreSQL when the run has one (DATABASE_URL), else the embedded database (DATA_DIR).
 */

const PASSWORD = 'a long admin password 1234';

// Each step spawns a TypeScript process that opens and migrates a database: slow on a busy box.
describe('create-admin', { timeout: 240_000 }, () => {
  it('creates a verified admin who can sign in, then reports it unchanged', async () => {
    const store = await cliStore();
    try {
      const email = uniqueEmail('cli');
      const args = ['create-admin', '--email', email, '--name', 'Ops Admin'];
      // Typed in capitals with spaces around: reported (and stored) in its canonical form.
      const typed = ['create-admin', '--email', ` ${email.toUpperCase()} `, '--name', 'Ops Admin'];
      const first = await runCli(typed, { env: store.env, stdin: `${PASSWORD}\n` });
      expect(first, first.stderr).toMatchObject({ code: 0, stdout: `admin ${email}: created\n` });

      const again = await runCli(args, { env: store.env, stdin: `${PASSWORD}\n` });
      expect(again, again.stderr).toMatchObject({ code: 0, stdout: `admin ${email}: unchanged\n` });
      for (const run of [first, again]) expect(run.stdout + run.stderr).not.toContain(PASSWORD);

      const t = await createTestApp({ noSmtp: true, database: await store.open() });
      try {
        const admin = await login(t, email, PASSWORD);
        const me = await send(t, { method: 'GET', url: '/users/me', headers: admin.headers });
        expect(me.json()).toMatchObject({
          email,
          fullName: 'Ops Admin',
          roles: ['admin'],
          permissions: SEEDED_PERMISSIONS.admin,
          emailVerified: true,
          isActive: true,
        });
      } finally {
        await t.close();
      }
    } finally {
      await store.drop();
    }
  });

  it('emails-unfolded: exit 0 when every address is canonical, else 1 with each account and why', async () => {
    const store = await cliStore();
    try {
      const clean = await runCli(['emails-unfolded'], { env: store.env });
      expect(clean, clean.stderr).toMatchObject({
        code: 0,
        stdout: 'every stored address is canonical\n',
      });

      // As the code before canonical addresses wrote it: lower-cased fullwidth letters.
      const database = await store.open();
      const [row] = await database.db
        .insert(users)
        .values({ email: 'ｊｏｅ@example.com', fullName: 'Joe', passwordHash: 'x' })
        .returning({ id: users.id });
      await database.close();

      const found = await runCli(['emails-unfolded'], { env: store.env });
      expect(found.code, found.stderr).toBe(1);
      expect(found.stdout).toContain('1 account(s) with an address that is not canonical');
      expect(found.stdout).toContain(
        `${row?.id} "ｊｏｅ@example.com": canonical joe@example.com is free`,
      );
    } finally {
      await store.drop();
    }
  });
});
