import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig, loadDotEnv } from './config.js';
import { openDatabase } from './db/client.js';
import { createLogger } from './lib/logger.js';
import { PasswordHasher } from './modules/auth/passwords.js';
import { ensureAdmin } from './modules/rbac/bootstrap.js';

/**
 * Operator commands. `create-admin --email <email> [--name <full name>]`: the password comes from
 * ADMIN_PASSWORD or standard input, never from an argument (arguments show up in `ps`).
 */

const USAGE = `usage: npm run cli -- create-admin --email <email> [--name "Full Name"]
       password: from ADMIN_PASSWORD, or typed on standard input`;

async function readPassword(env: string | undefined): Promise<string> {
  if (env) return env;
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'create-admin') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, name: { type: 'string' } },
  });
  if (!values.email) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig();
  const password = await readPassword(config.adminPassword);
  const logger = createLogger({ logLevel: 'warn' });
  const database = await openDatabase(config, logger);
  try {
    await database.migrate();
    const outcome = await ensureAdmin(
      database.db,
      new PasswordHasher(config.passwordPepper, config.bcryptCost),
      logger,
      {
        email: values.email,
        password,
        fullName: values.name,
      },
    );
    process.stdout.write(`admin ${values.email}: ${outcome}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `create-admin failed: ${error instanceof Error ? ((error as { detail?: string }).detail ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
