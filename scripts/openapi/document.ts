import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { pgliteDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';

/**
 * The OpenAPI document as the app serves it at /openapi.json, built without listening and without
 * migrating (the document depends on the routes alone, never on the data or the environment).
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'homefront-openapi-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    JWT_SECRET: 'openapi-document-secret-of-at-least-32-bytes',
    PASSWORD_PEPPER: 'openapi-document-pepper-of-at-least-32-bytes',
  });
  const database = await pgliteDatabase(new PGlite());
  const app = await buildApp(config, { database, logger: createLogger(config) });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const serialise = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;
