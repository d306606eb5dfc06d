import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig, loadDotEnv } from './config.js';
import { openDatabase } from './db/client.js';
import { checkDataDir, DataDirLockedError, dataDirProblem } from './db/data-dir.js';
import { createLogger } from './lib/logger.js';
import { prettyLogs } from './lib/pretty-logs.js';
import { whereToGo } from './lib/where-to-go.js';

/**
 * Process entry: config, database, app, listen; close gracefully on SIGTERM/SIGINT.
 * With WEB_CONCURRENCY > 1 this process becomes a supervisor of that many workers (node:cluster),
 * which share the port; rate limits are shared between them through Redis.
 */

const SHUTDOWN_GRACE_MS = 9_000;

function refuse(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

function readConfig(): Config {
  loadDotEnv();
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) refuse(`Invalid configuration: ${error.message}`);
    // In development loadConfig keeps generated secrets under DATA_DIR: the only files it
    // touches, so an unusable DATA_DIR fails there first.
    const problem = dataDirProblem(error);
    if (problem) refuse(`Invalid configuration: DATA_DIR: ${problem.message}`);
    throw error;
  }
  // The embedded database, and without SMTP the outbox folder, live under DATA_DIR.
  if (!config.databaseUrl || !config.smtpUrl) {
    try {
      checkDataDir(config.dataDir);
    } catch (error) {
      const problem = dataDirProblem(error, config.dataDir);
      if (problem) refuse(`Invalid configuration: DATA_DIR: ${problem.message}`);
      throw error;
    }
  }
  return config;
}

async function serve(config: Config) {
  const logger = createLogger(config, prettyLogs(config.nodeEnv));
  const database = await openDatabase(config, logger);
  const app = await buildApp(config, { database, logger });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await app.close();
      logger.info('shutdown complete');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  await app.untilStarted();
  // In the background, so that ready does not wait for a hundred routes' schemas.
  app.compileSchemas().then(
    (compiled) => logger.debug({ compiled }, 'route schemas compiled'),
    (error: unknown) => logger.error({ err: error }, 'a route schema does not compile'),
  );
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ driver: database.driver, ...whereToGo(config, port) }, 'ready');
}

function supervise(config: Config) {
  const logger = createLogger(config, prettyLogs(config.nodeEnv));
  if (!config.redisUrl) {
    logger.warn(
      { workers: config.webConcurrency },
      'no REDIS_URL: each worker keeps its own rate-limit counters',
    );
  }
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.webConcurrency; i++) fork();

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info('shutdown complete');
        process.exit(0);
      }
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 1_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const config = readConfig();
const run =
  config.webConcurrency > 1 && cluster.isPrimary
    ? async () => supervise(config)
    : () => serve(config);
run().catch((error) => {
  if (error instanceof DataDirLockedError) refuse(error.message);
  const problem = dataDirProblem(error, config.dataDir);
  if (problem) refuse(`Invalid configuration: DATA_DIR: ${problem.message}`);
  refuse(`Homefront failed to start: ${error instanceof Error ? error.message : String(error)}`);
});
