// dist/server.js becomes one file with drizzle-orm inside. Node 24 reads a package's package.json
// for each ESM file it loads from that package, and drizzle-orm is 448 files under a 179 KB
// package.json: its import took 177 ms, bundled 94 ms (seconds, bundled a third of one, on a
// loaded machine), and the start to /health/ready 2.30 s against 2.17. The other dependencies stay
// in node_modules (native code, WebAssembly, files read beside their modules, worker threads).
// The rest of dist/ stays as tsc wrote it, for the scripts and the bench that import its modules.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const INLINED = ['drizzle-orm'];
const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8'));
const external = Object.keys(dependencies)
  .filter((name) => !INLINED.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

await build({
  entryPoints: ['dist/server.js'],
  outfile: 'dist/server.js',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // tsc's source maps are read and carried through: stack traces still name src/ lines.
  sourcemap: true,
  external,
  logLevel: 'warning',
});
