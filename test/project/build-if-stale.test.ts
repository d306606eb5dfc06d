import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputsHash, plan, STAMP, TEMPLATE } from '../../scripts/build-if-stale.js';

/** A checkout in miniature: some sources, a "built" dist/ and its stamp. */
function checkout(built: { template: boolean }) {
  const root = mkdtempSync(path.join(tmpdir(), 'homefront-build-'));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  write('package.json', '{"name":"x"}');
  write('src/server.ts', 'export {};');
  write('src/db/migrations/0000_init.sql', 'create table t ();');
  write('dist/server.js', 'export {};');
  if (built.template) write(TEMPLATE, 'packed');
  write(STAMP, JSON.stringify({ inputs: inputsHash(root), template: built.template }));
  return { root, write };
}

const embedded = {};
const external = { DATABASE_URL: 'postgres://db/x' };

describe('the prestart up-to-date check', () => {
  it('does nothing when no input changed since the build', () => {
    const { root } = checkout({ template: true });
    expect(plan(root, embedded)).toEqual({ compile: false, template: false });
  });

  it('compiles again when a source, a migration or package.json changed', () => {
    for (const file of ['src/server.ts', 'src/db/migrations/0000_init.sql', 'package.json']) {
      const { root, write } = checkout({ template: true });
      write(file, 'changed');
      expect(plan(root, external), file).toMatchObject({ compile: true });
    }
  });

  it('compiles again when a source file is added or removed', () => {
    const added = checkout({ template: false });
    added.write('src/new-module.ts', 'export {};');
    expect(plan(added.root, external).compile).toBe(true);
    const removed = checkout({ template: false });
    rmSync(path.join(removed.root, 'src/server.ts'));
    expect(plan(removed.root, external).compile).toBe(true);
  });

  it('compiles when there is no stamp or no dist/server.js', () => {
    const noStamp = checkout({ template: false });
    rmSync(path.join(noStamp.root, STAMP));
    expect(plan(noStamp.root, external).compile).toBe(true);
    const noServer = checkout({ template: false });
    rmSync(path.join(noServer.root, 'dist/server.js'));
    expect(plan(noServer.root, external).compile).toBe(true);
  });

  it('packs the PGlite template only when it can be used', () => {
    const { root } = checkout({ template: false });
    expect(plan(root, external)).toEqual({ compile: false, template: false });
    expect(plan(root, embedded)).toEqual({ compile: false, template: true });
    // A DATA_DIR that already holds a database would never unpack it.
    mkdirSync(path.join(root, 'data/pglite'), { recursive: true });
    writeFileSync(path.join(root, 'data/pglite/PG_VERSION'), '17');
    expect(plan(root, embedded)).toEqual({ compile: false, template: false });
    expect(plan(root, { DATA_DIR: path.join(root, 'elsewhere') }).template).toBe(true);
  });

  it('packs the template again after a rebuild, when it can be used', () => {
    const { root, write } = checkout({ template: true });
    write('src/server.ts', 'changed');
    expect(plan(root, embedded)).toEqual({ compile: true, template: true });
  });
});
