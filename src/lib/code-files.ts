/**
 * Files that travel beside the code (migrations, the word list, the PGlite template) and
 * package.json, found from the folder the code runs from: src/ under tsx and vitest, dist/ when
 * built. Not from each module's own `import.meta.url`: dist/server.js is a bundle (see
 * scripts/bundle-server.mjs), in which every module's `import.meta.url` is the bundle's.
 */
const here = new URL('.', import.meta.url);
const codeRoot = here.pathname.endsWith('/lib/') ? new URL('..', here) : here;

/** A path relative to src/ (or dist/), as a file URL. */
export const codeFile = (path: string): URL => new URL(path, codeRoot);
