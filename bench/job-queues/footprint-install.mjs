// Installs both schemas into a fresh database for footprint.mjs and prints its URL.

import { runMigrations } from 'graphile-worker';
import { PgBoss } from 'pg-boss';
import { freshPgDatabase } from './common.mjs';

const fresh = await freshPgDatabase('bench_footprint');
const boss = new PgBoss({ connectionString: fresh.url });
boss.on('error', () => {});
await boss.start();
await boss.stop({ graceful: false });
await runMigrations({ connectionString: fresh.url });
console.log(fresh.url);
process.exit(0);
