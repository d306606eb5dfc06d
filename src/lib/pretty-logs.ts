import { createRequire } from 'node:module';
import type { DestinationStream } from 'pino';
import type { Config } from '../config.js';

type PinoPretty = (options: Record<string, unknown>) => DestinationStream;

/**
 * Human-readable log lines for a developer at a terminal: in development with stdout a TTY, and
 * pino-pretty installed (a devDependency: a production install never has it, nor needs it).
 * Everywhere else undefined: pino's JSON lines on stdout, for machines.
 */
export function prettyLogs(
  nodeEnv: Config['nodeEnv'],
  output: { isTTY?: boolean } = process.stdout,
  destination?: NodeJS.WritableStream,
): DestinationStream | undefined {
  if (nodeEnv !== 'development' || !output.isTTY) return undefined;
  let pretty: PinoPretty;
  try {
    pretty = createRequire(import.meta.url)('pino-pretty') as PinoPretty;
  } catch {
    return undefined;
  }
  return pretty({
    colorize: destination === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    // Synchronous, like pino's default destination: nothing is lost on process.exit().
    sync: true,
    ...(destination ? { destination } : {}),
  });
}
