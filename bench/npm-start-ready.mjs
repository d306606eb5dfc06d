// One `npm start` (or, with --direct, `node dist/server.js`: the yardstick), timed from spawn to
// the "ready" log line, then stopped (SIGTERM to its process group). Prints the milliseconds;
// farm-bench runs it several times (docs/development.md).
// Usage: DATA_DIR=/tmp/x PORT=3999 node bench/npm-start-ready.mjs [--direct]
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const started = performance.now();
const [command, ...args] = process.argv.includes('--direct')
  ? [process.execPath, 'dist/server.js']
  : ['npm', 'start', '--silent'];
const child = spawn(command, args, {
  env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
});
let seen = '';
child.stdout.on('data', (chunk) => {
  seen += chunk;
  if (!/"msg":"ready"/.test(seen)) return;
  process.stdout.write(`${Math.round(performance.now() - started)}\n`);
  child.stdout.removeAllListeners('data');
  child.stdout.resume();
  process.kill(-child.pid, 'SIGTERM');
});
child.on('exit', (code) => {
  if (!/"msg":"ready"/.test(seen)) {
    process.stderr.write(`npm start exited (${code}) before ready:\n${seen}`);
    process.exit(1);
  }
});
