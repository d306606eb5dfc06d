import { readFileSync } from 'node:fs';
import { codeFile } from './code-files.js';

/**
 * package.json's version: the one number the OpenAPI document, /health and the CHANGELOG share.
 * The file sits beside src/ and dist/.
 */
export const VERSION: string = JSON.parse(
  readFileSync(codeFile('../package.json'), 'utf8'),
).version;
