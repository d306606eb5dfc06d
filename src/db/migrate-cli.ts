import { loadConfig, loadDotEnv } from '../config.js';
import { createLogger } from '../lib/logger.js';
import { openDatabase } from './client.js';
import { describeDatabaseFailure } from './failures.js';

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
  } finally {
    await database.close();
  }
}

// The cause is the driver's error under drizzle's "Failed query" wrapper: print that, in one line.
main().catch((error) => {
  process.stderr.write(`migration failed: ${describeDatabaseFailure(error)}\n`);
  process.exit(1);
});
