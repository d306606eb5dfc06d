// A first PGlite start spends about 2 s in initdb. The build runs initdb and the migrations once
// and packs the result beside the compiled code; a server whose DATA_DIR is empty unpacks it
// (about 0.7 s) instead. Migrations still run at start, so a template older than the code is safe.
import { rmSync, writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pgliteDatabase } from '../dist/db/client.js';

const target = 'dist/db/pglite-template.tar.gz';
rmSync(target, { force: true });
const client = await PGlite.create();
// The app's own migrate(), from the compiled client: the same migrations folder and journal.
await (await pgliteDatabase(client)).migrate();
// Compact before packing, as a fresh data directory would be.
await client.exec('vacuum');
const archive = await client.dumpDataDir('gzip');
writeFileSync(target, Buffer.from(await archive.arrayBuffer()));
await client.close();
