import { readFileSync } from 'node:fs';

/**
 * package.json's version: the one number the OpenAPI document, /health and the CHANGELOG share.
 * The file sits two levels above this module both in src/lib and in the build's dist/lib.
 */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;
