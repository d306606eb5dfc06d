import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { createLogger } from '../../src/lib/logger.js';

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger configured as in production whose lines are kept in memory for assertions. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger({ logLevel: 'info' }, stream), lines };
}
