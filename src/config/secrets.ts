import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const MIN_SECRET_BYTES = 32;

/**
 * A secret left unset outside production: random for each test process, and in development
 * generated once and kept (mode 0600) under DATA_DIR, so tokens and sealed mail survive restarts.
 */
export function developmentSecret(
  nodeEnv: 'development' | 'test',
  dataDir: string,
  fileName: string,
) {
  if (nodeEnv === 'test') return randomBytes(32).toString('base64url');
  const file = path.join(dataDir, fileName);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64url');
  writeFileSync(file, generated, { mode: 0o600 });
  return generated;
}
