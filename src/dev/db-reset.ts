import { rmSync } from 'node:fs';
import path from 'node:path';
import { lockDataDir } from '../db/data-dir.js';

/**
 * Deletes the embedded database under DATA_DIR (the next start or command creates it afresh).
 * Holds the DATA_DIR lock while it does, so a running server's database is never pulled away;
 * the outbox and the generated secrets stay.
 */
export function resetEmbeddedDatabase(dataDir: string): string {
  const lock = lockDataDir(dataDir);
  try {
    const dir = path.join(dataDir, 'pglite');
    rmSync(dir, { recursive: true, force: true });
    return dir;
  } finally {
    lock.release();
  }
}
