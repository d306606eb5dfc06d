// tsc compiles TypeScript only; the SQL migrations and data files travel beside the compiled code.
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/db/migrations', { recursive: true, force: true });
cpSync('src/db/migrations', 'dist/db/migrations', { recursive: true });
cpSync('src/modules/auth/wordlists', 'dist/modules/auth/wordlists', { recursive: true });
