import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type Config, loadConfig, loadDotEnv } from './config.js';
import { openDatabase } from './db/client.js';
import { DataDirLockedError } from './db/data-dir.js';
import { describeUnfolded, findUnfoldedEmails } from './db/unfolded-emails.js';
import { resetEmbeddedDatabase } from './dev/db-reset.js';
import { lastMail } from './dev/mail-last.js';
import { seedDemoData } from './dev/seed.js';
import { canonicalEmail } from './lib/email.js';
import { createLogger } from './lib/logger.js';
import { PasswordHasher } from './modules/auth/passwords.js';
import { ensureAdmin } from './modules/rbac/bootstrap.js';

/**
 * Operator and developer commands. `create-admin --email <email> [--name <full name>]`: the
 * password comes from ADMIN_PASSWORD or standard input, never from an argument (arguments show up
 * in `ps`). `emails-unfolded`, `mail-last [--token]`, `seed`, `db-reset [--yes]`: see USAGE.
 */

const USAGE = `usage: npm run cli -- create-admin --email <email> [--name "Full Name"]
       password: from ADMIN_PASSWORD, or typed on standard input
       npm run cli -- emails-unfolded    accounts whose address is not canonical (exit 1 if any)
       npm run mail:last [-- --token]   the newest outbox mail: recipient, subject, link, token
       npm run seed                     demo homeowners and providers (idempotent)
       npm run db:reset [-- --yes]      deletes the embedded database under DATA_DIR`;

/** What to do instead when a running server holds DATA_DIR, per command. */
const WHEN_LOCKED: Record<string, string> = {
  'create-admin':
    'stop the server and run this again, or restart the server with ADMIN_EMAIL and ADMIN_PASSWORD set (it makes that admin on start)',
  seed: 'stop the server and run this again (with DATABASE_URL the server and the seed can share the database)',
  'db-reset': 'stop the server first',
  'emails-unfolded':
    'stop the server and run this again (with DATABASE_URL it can run beside the server)',
};

class UsageError extends Error {}

function readLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolve(line);
    });
    lines.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

function config(): Config {
  loadDotEnv();
  return loadConfig();
}

async function createAdmin(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { email: { type: 'string' }, name: { type: 'string' } },
  });
  if (!values.email) throw new UsageError();
  const settings = config();
  const password = settings.adminPassword ?? (await readLine('Password: '));
  const logger = createLogger({ logLevel: 'warn' });
  const database = await openDatabase(settings, logger);
  try {
    await database.migrate();
    const outcome = await ensureAdmin(
      database.db,
      new PasswordHasher(settings.passwordPepper, settings.bcryptCost),
      logger,
      { email: values.email, password, fullName: values.name },
    );
    // The address as stored and as the admin signs in with, not as it was typed.
    process.stdout.write(`admin ${canonicalEmail(values.email) ?? values.email}: ${outcome}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

/** Lists the accounts migration 0007 could not fold; exit status 1 when there are any. */
async function emailsUnfolded(): Promise<number> {
  const settings = config();
  const logger = createLogger({ logLevel: 'warn' });
  const database = await openDatabase(settings, logger);
  try {
    await database.migrate();
    const rows = await findUnfoldedEmails(database.db);
    if (rows.length === 0) {
      process.stdout.write('every stored address is canonical\n');
      return 0;
    }
    process.stdout.write(
      `${rows.length} account(s) with an address that is not canonical (see docs/operations.md):\n`,
    );
    for (const row of rows) process.stdout.write(`  ${describeUnfolded(row)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

async function mailLast(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { token: { type: 'boolean' } } });
  const outbox = path.join(config().dataDir, 'outbox');
  const mail = await lastMail(outbox);
  if (!mail) {
    process.stderr.write(`no mail in ${outbox} (with SMTP_URL set, mail goes to SMTP instead)\n`);
    return 1;
  }
  if (values.token) {
    if (!mail.token) return 1;
    process.stdout.write(`${mail.token}\n`);
    return 0;
  }
  process.stdout.write(
    [
      `to:      ${mail.to}`,
      `subject: ${mail.subject}`,
      `link:    ${mail.link ?? '(none)'}`,
      `token:   ${mail.token ?? '(none)'}`,
      `file:    ${mail.file}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function seed(): Promise<number> {
  const settings = config();
  if (settings.nodeEnv === 'production') {
    throw new Error('refused with NODE_ENV=production: the demo accounts share a known password');
  }
  const logger = createLogger({ logLevel: 'warn' });
  const database = await openDatabase(settings, logger);
  try {
    await database.migrate();
    const hasher = new PasswordHasher(settings.passwordPepper, settings.bcryptCost);
    const outcome = await seedDemoData(database.db, hasher);
    process.stdout.write(
      `demo data: ${outcome.created.length} account(s) created, ${outcome.logins.length - outcome.created.length} already there\n`,
    );
    for (const login of outcome.logins) {
      process.stdout.write(`  ${login.role.padEnd(16)} ${login.email}  ${login.password}\n`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

async function dbReset(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { yes: { type: 'boolean' } } });
  const settings = config();
  if (settings.databaseUrl) {
    throw new Error('DATABASE_URL is set: db:reset only deletes the embedded database');
  }
  const target = path.join(settings.dataDir, 'pglite');
  if (!values.yes) {
    const answer = await readLine(`Delete the embedded database ${target}? Type "yes": `);
    if (answer.trim().toLowerCase() !== 'yes') {
      process.stderr.write('not deleted\n');
      return 1;
    }
  }
  resetEmbeddedDatabase(settings.dataDir);
  process.stdout.write(`deleted ${target}; the next start creates it afresh\n`);
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  'create-admin': createAdmin,
  'emails-unfolded': emailsUnfolded,
  'mail-last': mailLast,
  seed,
  'db-reset': dbReset,
};

const [command = '', ...rest] = process.argv.slice(2);

function failure(error: unknown): string {
  if (error instanceof DataDirLockedError) {
    return `${error.message.replace(/: stop it first.*$/, '')}: ${WHEN_LOCKED[command] ?? 'stop it first'}`;
  }
  if (error instanceof Error) return (error as { detail?: string }).detail ?? error.message;
  return String(error);
}

const run = COMMANDS[command];
(run ? run(rest) : Promise.reject(new UsageError())).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`${command} failed: ${failure(error)}\n`);
    process.exit(1);
  },
);
