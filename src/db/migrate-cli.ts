import { loadConfig, loadDotEnv } from '../config.js';
import { createLogger } from '../lib/logger.js';
import { openDatabase } from './client.js';
import { describeDatabaseFailure } from './failures.js';
import { describeUnfolded, findUnfoldedEmails } from './unfolded-emails.js';

/** `npm run db:migrate`: applies pending migrations and exits (the server also does this on start). */
async function main() {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config);
  const database = await openDatabase(config, logger);
  try {
    const before = await database.pendingMigrations();
    await database.migrate();
    logger.info({ applied: before, driver: database.driver }, 'migrations applied');
    const unfolded = await findUnfoldedEmails(database.db);
    if (unfolded.length > 0) {
      process.stderr.write(
        `${unfolded.length} account(s) have an address that is not canonical and cannot be signed into by address; see docs/operations.md ("Addresses that migration 0007 could not fold"):\n${unfolded.map((row) => `  ${describeUnfolded(row)}\n`).join('')}`,
      );
    }
  } finally {
    await database.close();
  }
}

// The cause is the driver's error under drizzle's "Failed query" wrapper: print that, in one line.
main().catch((error) => {
  process.stderr.write(`migration failed: ${describeDatabaseFailure(error)}\n`);
  process.exit(1);
});
