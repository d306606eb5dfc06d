import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The floors of src/, top to bottom. A file imports only from its own floor or below, so
 * arrows run one way: entry points and the composition root wire modules; modules use plugins'
 * decorations and the kernel; plugins (Fastify infrastructure) never know a module; the kernel,
 * jobs and mail sit on lib, db and config, which know nothing above them.
 */
const FLOORS: Array<{ floor: string; holds: (file: string) => boolean }> = [
  {
    floor: 'entry',
    holds: (file) =>
      ['app.ts', 'composition.ts', 'server.ts', 'cli.ts', 'db/migrate-cli.ts'].includes(file) ||
      file.startsWith('dev/'),
  },
  { floor: 'modules', holds: (file) => file.startsWith('modules/') },
  { floor: 'plugins', holds: (file) => file.startsWith('plugins/') },
  {
    floor: 'kernel',
    holds: (file) => ['kernel/', 'jobs/', 'mail/'].some((dir) => file.startsWith(dir)),
  },
  {
    floor: 'foundation',
    holds: (file) =>
      ['lib/', 'db/', 'config/'].some((dir) => file.startsWith(dir)) || file === 'config.ts',
  },
];

const SRC = path.resolve('src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

function floorOf(file: string): number {
  const index = FLOORS.findIndex(({ holds }) => holds(file));
  if (index < 0) throw new Error(`src/${file} stands on no floor: add it to FLOORS`);
  return index;
}

/** Relative imports (static, dynamic and type-only) of a file, as paths under src/. */
function importsOf(file: string): string[] {
  const source = readFileSync(path.join(SRC, file), 'utf8');
  const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(
    (match) => match[1] ?? '',
  );
  return specifiers.map((specifier) =>
    path.relative(SRC, path.resolve(SRC, path.dirname(file), specifier)).replace(/\.js$/, '.ts'),
  );
}

describe('import direction', () => {
  const files = sourceFiles();

  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(importsOf('app.ts')).toContain('config.ts');
  });

  it('places every source file on a floor', () => {
    for (const file of files) floorOf(file);
  });

  it('has no arrow running up a floor', () => {
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => floorOf(target) < floorOf(file))
        .map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('has plugins that never import a module', () => {
    const arrows = files
      .filter((file) => file.startsWith('plugins/'))
      .flatMap((file) => importsOf(file).filter((target) => target.startsWith('modules/')));
    expect(arrows).toEqual([]);
  });

  it('has route plugins that call services, never a repository or the database', () => {
    const routeFiles = files.filter((file) =>
      /^modules\/[^/]+\/(?:[\w-]+-)?routes\.ts$/.test(file),
    );
    expect(routeFiles).toContain('modules/properties/routes.ts');
    const arrows = routeFiles.flatMap((file) =>
      importsOf(file)
        .filter((target) => /(?:^|\/)repository\.ts$/.test(target) || target.startsWith('db/'))
        .map((target) => `${file} -> ${target}`),
    );
    expect(arrows).toEqual([]);
    // Nor do they reach the database through the app: app.db, app.database or a transaction. The
    // health probe is the exception: asking the database whether it answers is its whole job.
    const direct = routeFiles.filter(
      (file) =>
        file !== 'modules/health/routes.ts' &&
        /\bapp\.(?:db|database)\b|\.transaction\(/.test(readFileSync(path.join(SRC, file), 'utf8')),
    );
    expect(direct).toEqual([]);
  });
});
