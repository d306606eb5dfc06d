// `npm start`'s prestart: rebuild only when the build's inputs changed since the last build.
// A full build (tsc, assets, the PGlite template) takes 10-20 s; this check takes a few ms, so a
// restart with unchanged sources is as quick as `node dist/server.js`. Plain TypeScript that
// Node runs as is (type stripping): no tsx start-up on the way to the server.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Everything the build reads: a change to any of these makes dist/ stale. */
export const BUILD_INPUTS = [
  'src',
  'scripts/copy-assets.mjs',
  'scripts/bundle-server.mjs',
  'scripts/pglite-template.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
];
export const STAMP = 'dist/.build-stamp.json';
export const TEMPLATE = 'dist/db/pglite-template.tar.gz';

export interface Stamp {
  inputs: string;
  template: boolean;
}

function files(root: string, entry: string): string[] {
  const full = path.join(root, entry);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [entry];
  return readdirSync(full)
    .sort()
    .flatMap((name) => files(root, path.join(entry, name)));
}

/** A hash of the inputs' names and contents: mtimes would change with every git checkout. */
export function inputsHash(root: string): string {
  const hash = createHash('sha256');
  for (const file of BUILD_INPUTS.flatMap((entry) => files(root, entry))) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

export function readStamp(root: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(path.join(root, STAMP), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/**
 * The PGlite template only speeds up the first start on an empty embedded database: useless with
 * DATABASE_URL, or when DATA_DIR already holds a database.
 */
export function templateUsable(root: string, env: Record<string, string | undefined>): boolean {
  if (env.DATABASE_URL?.trim()) return false;
  const dataDir = path.resolve(root, env.DATA_DIR?.trim() || 'data');
  return !existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'));
}

/** What the build must do now: nothing, or compile (and maybe pack the template). */
export function plan(
  root: string,
  env: Record<string, string | undefined>,
): { compile: boolean; template: boolean } {
  const stamp = readStamp(root);
  const inputs = inputsHash(root);
  const wantTemplate = templateUsable(root, env);
  const compiled = stamp?.inputs === inputs && existsSync(path.join(root, 'dist', 'server.js'));
  const haveTemplate = compiled && stamp.template && existsSync(path.join(root, TEMPLATE));
  return { compile: !compiled, template: wantTemplate && !haveTemplate };
}

function step(command: string, args: string[], root: string) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (existsSync(path.join(root, '.env'))) process.loadEnvFile(path.join(root, '.env'));
  const todo = plan(root, process.env);
  if (!todo.compile && !todo.template) return;
  const before = readStamp(root);
  if (todo.compile) {
    rmSync(path.join(root, STAMP), { force: true });
    step(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], root);
    step(process.execPath, ['scripts/copy-assets.mjs'], root);
  }
  if (todo.template) step(process.execPath, ['scripts/pglite-template.mjs'], root);
  // A template packed from older migrations is still safe (migrations run at start), but it is
  // rebuilt with them so the first start stays quick; one left from before is kept only if valid.
  const template = todo.template || (!todo.compile && (before?.template ?? false));
  if (!template) rmSync(path.join(root, TEMPLATE), { force: true });
  const stamp: Stamp = { inputs: inputsHash(root), template };
  writeFileSync(path.join(root, STAMP), `${JSON.stringify(stamp)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
