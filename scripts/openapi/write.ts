import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument, serialise } from './document.js';

/**
 * `npm run openapi:write`: openapi.json at the repository root and the typed client generated
 * from it (clients/typescript/src/schema.ts). `npm run openapi:check` (CI): regenerates both
 * aside and fails when the committed copies differ.
 */

const root = path.resolve(import.meta.dirname, '../..');
const documentFile = path.join(root, 'openapi.json');
const clientDir = path.join(root, 'clients/typescript');
const schemaFile = path.join(clientDir, 'src/schema.ts');
const generator = path.join(clientDir, 'node_modules/openapi-typescript/bin/cli.js');

function generateClient(fromDocument: string, toFile: string) {
  execFileSync(
    process.execPath,
    [generator, fromDocument, '--output', toFile, '--root-types', '--root-types-no-schema-prefix'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

const document = serialise(await openApiDocument());
if (process.argv.includes('--check')) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'homefront-openapi-check-'));
  try {
    writeFileSync(path.join(scratch, 'openapi.json'), document);
    generateClient(path.join(scratch, 'openapi.json'), path.join(scratch, 'schema.ts'));
    const stale = [
      read(documentFile) !== document && 'openapi.json',
      read(schemaFile) !== read(path.join(scratch, 'schema.ts')) &&
        'clients/typescript/src/schema.ts',
    ].filter(Boolean);
    if (stale.length > 0) {
      process.stderr.write(
        `Out of date: ${stale.join(', ')}. Run npm run openapi:write and commit.\n`,
      );
      process.exit(1);
    }
    process.stdout.write('openapi.json and the client are up to date\n');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  writeFileSync(documentFile, document);
  generateClient(documentFile, schemaFile);
  process.stdout.write('wrote openapi.json and clients/typescript/src/schema.ts\n');
}
