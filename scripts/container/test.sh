#!/usr/bin/env bash
# npm run test:container — builds the production image from the Dockerfile and checks that it
# behaves as deployed: it starts against a real PostgreSQL, its HEALTHCHECK reports healthy, it
# serves the API, it runs as a non-root user with node as PID 1, and SIGTERM stops it with exit 0
# (also with WEB_CONCURRENCY=2, where PID 1 supervises worker processes).
#
# Works with podman + buildah (installed from Debian when missing; no Docker engine needed) and
# without any container registry: the base image comes from make-base-image.sh when it is not
# already present. Needs root (apt-get, rootful podman) and a PostgreSQL reachable as
# PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres); it creates a fresh database
# and drops it afterwards. Leaves no container or process behind, and exits non-zero on any failure.
#
# Environment: HOMEFRONT_IMAGE (tag to build, default localhost/homefront:test), PG_ADMIN_URL,
# CONTAINER_BUILD_TIMEOUT (seconds, default 900), CONTAINER_HEALTHY_TIMEOUT (default 90).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$here/common.sh"
cd "$here/../.." # the repository root is the build context

PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BUILD_TIMEOUT="${CONTAINER_BUILD_TIMEOUT:-900}"
HEALTHY_TIMEOUT="${CONTAINER_HEALTHY_TIMEOUT:-90}"

started_ns=$(date +%s%N)
suffix="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(4).toString("hex"))')"
container="homefront-container-test-$suffix"
database="homefront_container_$suffix"
work="$(mktemp -d)"
database_created=false
passed=0
failed=0

pass() {
  passed=$((passed + 1))
  log "ok   - $*"
}
fail() {
  failed=$((failed + 1))
  log "FAIL - $*"
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# podman without systemd (this sandbox, most CI runners) cannot create the timers that run health
# checks on their own schedule; it says so on stderr at every run/stop/rm although the container
# works. The test runs the check itself (podman healthcheck run), so that one message is dropped.
pm() {
  local rc=0
  podman --runtime "$OCI_RUNTIME" "$@" 2>"$work/podman.err" || rc=$?
  grep -v 'unable to get systemd connection' "$work/podman.err" >&2 || true
  return $rc
}

psql_admin() { psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

# Every container this run may create.
containers=("$container" "$container-files" "$container-cluster" "$container-pglite")

cleanup() {
  local rc=$?
  set +e
  local name
  for name in "${containers[@]}"; do
    pm container exists "$name" 2>/dev/null || continue
    if ((rc != 0)) && [[ "$name" != "$container-files" ]]; then
      log "logs of $name (last 40 lines):"
      pm logs --tail 40 "$name" >&2
    fi
    pm rm --force --time 0 "$name" >/dev/null
  done
  # conmon, podman's per-container monitor, exits a moment after its container is removed; wait
  # for it (matched by container name) so that nothing of this test outlives it.
  for name in "${containers[@]}"; do
    for _ in $(seq 1 50); do
      pgrep -f "conmon .*-n $name " >/dev/null || break
      sleep 0.2
    done
    pgrep -f "conmon .*-n $name " >/dev/null && log "conmon of $name is still running"
  done
  if $database_created; then
    psql_admin -c "drop database if exists $database with (force)" >/dev/null ||
      log "could not drop database $database"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# http METHOD URL [JSON_BODY]: prints the status code; the body goes to $work/body.
http() {
  BODY_FILE="$work/body" node --input-type=module -e '
    import { writeFileSync } from "node:fs";
    const [method, url, body] = process.argv.slice(1);
    try {
      const response = await fetch(url, {
        method,
        body,
        headers: body ? { "content-type": "application/json" } : {},
        signal: AbortSignal.timeout(15_000),
      });
      writeFileSync(process.env.BODY_FILE, Buffer.from(await response.arrayBuffer()));
      console.log(response.status);
    } catch (error) {
      // No answer at all: status 000, the reason as the body.
      writeFileSync(process.env.BODY_FILE, String(error?.cause?.code ?? error?.message));
      console.log("000");
    }
  ' "$@"
}

# Rootful podman asks for 1048576 open files by default, above this sandbox's hard limit (20000),
# and runc then fails ("error setting rlimit type 7"). These limits are ample for the service.
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

secret() { node -e 'process.stdout.write(require("node:crypto").randomBytes(48).toString("base64url"))'; }
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# start_container NAME PORT [podman create options...]: creates the container on the host network
# with what production requires, starts it, and sets start_ns.
start_container() {
  local name="$1" port="$2"
  shift 2
  pm create --name "$name" \
    --network host \
    "${limits[@]}" \
    -e PORT="$port" \
    -e DATABASE_URL="$database_url" \
    -e JWT_SECRET="$(secret)" \
    -e PASSWORD_PEPPER="$(secret)" \
    -e MFA_ENCRYPTION_KEY="$(secret)" \
    -e PUBLIC_APP_URL="http://127.0.0.1:$port" \
    "$@" "$IMAGE" >/dev/null
  start_ns=$(date +%s%N)
  pm start "$name" >/dev/null
}

# wait_healthy NAME: runs the image's HEALTHCHECK (podman healthcheck run, which also records the
# result in the container's state) until it passes; sets healthy_ms, the time since start_ns.
wait_healthy() {
  local name="$1" deadline=$(($(date +%s) + HEALTHY_TIMEOUT))
  healthy_ms=""
  while (($(date +%s) < deadline)); do
    [[ "$(podman inspect --format '{{.State.Running}}' "$name")" == true ]] ||
      die "$name exited during start-up (exit code $(podman inspect --format '{{.State.ExitCode}}' "$name"))"
    if pm healthcheck run "$name" >/dev/null 2>&1; then
      healthy_ms=$(ms_since "$start_ns")
      break
    fi
    sleep 0.2
  done
  [[ -n "$healthy_ms" ]] || die "$name not healthy within ${HEALTHY_TIMEOUT}s"
  local status
  status="$(podman inspect --format '{{.State.Health.Status}}' "$name")"
  if [[ "$status" == healthy ]]; then
    pass "$name healthy ${healthy_ms} ms after start"
  else
    fail "$name: the health check passed but the status is $status"
  fi
}

# stop_container NAME: SIGTERM with a 10 s grace period (then SIGKILL), like docker stop; expects
# exit code 0 and the graceful shutdown in the logs. Sets stop_ms.
stop_container() {
  local name="$1" started exit_code
  started=$(date +%s%N)
  timeout 30 podman --runtime "$OCI_RUNTIME" stop --time 10 "$name" >/dev/null 2>&1 || true
  stop_ms=$(ms_since "$started")
  exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
  if [[ "$exit_code" == 0 ]]; then
    pass "$name stopped by SIGTERM in ${stop_ms} ms with exit code 0"
  else
    fail "$name: exit code after SIGTERM is $exit_code (after ${stop_ms} ms)"
  fi
  # conmon may still be flushing the last lines of a stopped container: look a few times.
  local logged=''
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if pm logs "$name" 2>&1 | grep '"msg":"shutdown complete"' >/dev/null; then logged=yes; break; fi
    sleep 0.3
  done
  if [[ -n "$logged" ]]; then
    pass "$name logged its graceful shutdown"
  else
    fail "$name: no 'shutdown complete' log line"
  fi
}

# ---------------------------------------------------------------------------------------------
log "1/9 tools and base image"
ensure_container_tools
timeout 300 bash "$here/make-base-image.sh"

# ---------------------------------------------------------------------------------------------
log "2/9 PostgreSQL"
if ! psql_admin -c 'select 1' >/dev/null 2>&1; then
  # Same as .ci/run: start the machine's cluster when it is installed but not running.
  if [[ "$PG_ADMIN_URL" == *127.0.0.1:5432* ]] && command -v pg_ctlcluster >/dev/null; then
    log "starting the local PostgreSQL cluster"
    version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tail -1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do psql_admin -c 'select 1' >/dev/null 2>&1 && break; sleep 1; done
  fi
  psql_admin -c 'select 1' >/dev/null || die "PostgreSQL is not reachable at $PG_ADMIN_URL"
fi
psql_admin -c "create database $database" >/dev/null
database_created=true
# Same credentials as the admin URL, the fresh database instead of the admin one.
database_url="${PG_ADMIN_URL%/*}/$database"
log "database $database created"

# ---------------------------------------------------------------------------------------------
log "3/9 build $IMAGE"
build_args=(
  bud
  --isolation=chroot # RUN steps in a chroot: no nested user/mount namespaces needed
  --pull=never       # the base image must be local (no registry access here)
  --network=host     # RUN npm ci reaches the npm registry through the host's network
  --runtime="$OCI_RUNTIME"
  --format=docker # the OCI image format has no HEALTHCHECK; buildah would drop it
  --layers        # cache layers, so an unchanged package-lock.json skips npm ci next time
  --ulimit=nofile=20000:20000 # npm ci of the dev dependencies opens more files than the default 1024
)
# A TLS-inspecting proxy between npm and its registry (this sandbox has one) needs its CA: the
# Dockerfile takes it as the optional build secret npm_ca, so it never lands in a layer.
ca_file="${NODE_EXTRA_CA_CERTS:-}"
[[ -z "$ca_file" ]] && ca_file="$(npm config get cafile 2>/dev/null || true)"
if [[ -n "$ca_file" && "$ca_file" != null && "$ca_file" != undefined && -s "$ca_file" ]]; then
  build_args+=(--secret "id=npm_ca,src=$ca_file")
fi
build_started=$(date +%s%N)
if ! timeout "$BUILD_TIMEOUT" buildah "${build_args[@]}" -t "$IMAGE" . >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  die "image build failed (full log above, last 40 lines)"
fi
build_ms=$(ms_since "$build_started")
pass "image built in $((build_ms / 1000)) s"

image_bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
base_bytes=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")
image_mb=$((image_bytes / 1000000))
app_mb=$(((image_bytes - base_bytes) / 1000000))

if [[ "$(podman image inspect --format '{{.User}}' "$IMAGE")" == node ]]; then
  pass "image runs as USER node"
else
  fail "image USER is not node"
fi
if [[ "$(podman image inspect --format '{{json .Config.Cmd}}' "$IMAGE")" == '["node","dist/server.js"]' ]]; then
  pass 'CMD is ["node","dist/server.js"]'
else
  fail "CMD is not exec-form node dist/server.js"
fi
if [[ "$(podman image inspect --format '{{json .HealthCheck.Test}}' "$IMAGE")" == *healthcheck.mjs* ]]; then
  pass "image carries the HEALTHCHECK"
else
  fail "image has no HEALTHCHECK (built in OCI format?)"
fi
# The runtime stage must hold the compiled code and production dependencies only.
if podman run --rm --name "$container-files" --runtime "$OCI_RUNTIME" "${limits[@]}" --network none --entrypoint '' "$IMAGE" \
  sh -c 'test -f dist/server.js && test ! -e src && test ! -e node_modules/typescript && test ! -e node_modules/vitest' \
  2>/dev/null; then
  pass "image holds dist/ and production dependencies only"
else
  fail "image contains sources or dev dependencies (or lacks dist/server.js)"
fi

# ---------------------------------------------------------------------------------------------
log "4/9 start the container and wait for its health check (at most ${HEALTHY_TIMEOUT}s)"
port="$(free_port)"
base_url="http://127.0.0.1:$port"
start_container "$container" "$port"
wait_healthy "$container"
first_healthy_ms=$healthy_ms
# CPU time PID 1 has used so far (utime + stime, in USER_HZ = 100 ticks/s): unlike the wall time
# above, it does not depend on how busy the machine is.
startup_cpu_ms=$(pm exec "$container" cat /proc/1/stat | awk '{ print ($14 + $15) * 10 }')

# ---------------------------------------------------------------------------------------------
log "5/9 the API, as a client sees it"
code="$(http GET "$base_url/health/ready")"
if [[ "$code" == 200 ]] && grep -q '"status":"ok"' "$work/body"; then
  pass "GET /health/ready -> 200 {status: ok}"
else
  fail "GET /health/ready -> $code $(head -c 300 "$work/body")"
fi

code="$(http GET "$base_url/openapi.json")"
if [[ "$code" == 200 ]] && node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));if(!/^3\.1/.test(d.openapi))process.exit(1)' "$work/body"; then
  pass "GET /openapi.json -> 200, OpenAPI 3.1"
else
  fail "GET /openapi.json -> $code"
fi
cp "$work/body" "$work/openapi.json"

# The interactive docs are served by @fastify/static from node_modules: a check that the
# production dependencies are complete.
code="$(http GET "$base_url/docs")"
if [[ "$code" == 200 ]]; then
  pass "GET /docs -> 200"
else
  fail "GET /docs -> $code"
fi

if node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));process.exit(d.paths?.["/auth/register"]?.post?0:1)' "$work/openapi.json"; then
  body="$(printf '{"email":"container-%s@example.com","password":"correct horse battery staple %s","fullName":"Container Test","role":"homeowner"}' "$suffix" "$suffix")"
  code="$(http POST "$base_url/auth/register" "$body")"
  # 202 needs bcrypt (native addon), the database and the mail outbox under DATA_DIR (writable).
  if [[ "$code" == 202 ]]; then
    pass "POST /auth/register -> 202"
  else
    fail "POST /auth/register -> $code $(head -c 300 "$work/body")"
  fi
else
  log "note - POST /auth/register is not in this build's OpenAPI document; register check skipped"
fi

uid="$(pm exec "$container" id -u)"
if [[ -n "$uid" && "$uid" != 0 ]]; then
  pass "the process runs as uid $uid (not root)"
else
  fail "the process runs as root (uid '$uid')"
fi
pid1="$(pm exec "$container" cat /proc/1/cmdline | tr '\0' ' ')"
if [[ "$pid1" == "node dist/server.js " ]]; then
  pass "PID 1 is node itself (${pid1% })"
else
  fail "PID 1 is '$pid1', not node dist/server.js"
fi
if pm exec "$container" sh -c 'touch dist/.probe' >/dev/null 2>&1; then
  fail "the application files are writable by the runtime user"
else
  pass "the application files are read-only to the runtime user"
fi
# shellcheck disable=SC2016 # $DATA_DIR is expanded by the container's shell
if pm exec "$container" sh -c 'touch "$DATA_DIR/.probe" && rm "$DATA_DIR/.probe"'; then
  pass "DATA_DIR is writable"
else
  fail "DATA_DIR is not writable"
fi

# ---------------------------------------------------------------------------------------------
log "6/9 SIGTERM"
stop_container "$container"
first_stop_ms=$stop_ms

# ---------------------------------------------------------------------------------------------
# With WEB_CONCURRENCY > 1, PID 1 is a supervisor that forks workers (node:cluster) and must pass
# SIGTERM on to them and exit 0 once they have finished. Same database: already migrated.
log "7/9 WEB_CONCURRENCY=2"
port="$(free_port)"
start_container "$container-cluster" "$port" -e WEB_CONCURRENCY=2
wait_healthy "$container-cluster"
cluster_healthy_ms=$healthy_ms
# Node processes in the container (no ps in the slim image: count /proc entries running node).
# shellcheck disable=SC2016 # expanded by the container's shell
nodes="$(pm exec "$container-cluster" sh -c 'node="$(readlink -f "$(command -v node)")"; n=0; for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$node" ] && n=$((n + 1)); done; echo $n')"
if ((nodes >= 3)); then
  pass "$nodes node processes: a supervisor and its workers"
else
  fail "$nodes node process(es) with WEB_CONCURRENCY=2; expected a supervisor and 2 workers"
fi
code="$(http GET "http://127.0.0.1:$port/health/ready")"
if [[ "$code" == 200 ]]; then
  pass "GET /health/ready through the workers -> 200"
else
  fail "GET /health/ready through the workers -> $code"
fi
stop_container "$container-cluster"
cluster_stop_ms=$stop_ms

# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# Without DATABASE_URL the image runs on the embedded PGlite: an empty DATA_DIR is filled from the
# migrated template the build packed (dist/db/pglite-template.tar.gz) instead of running initdb.
log "8/9 the embedded database (no DATABASE_URL, empty DATA_DIR)"
port="$(free_port)"
start_container "$container-pglite" "$port" -e DATABASE_URL=
wait_healthy "$container-pglite"
pglite_healthy_ms=$healthy_ms
# Not grep -q: it would stop reading early, and under pipefail the writer's SIGPIPE fails the test.
if pm logs "$container-pglite" 2>&1 | grep 'unpacking the migrated template' >/dev/null; then
  pass "PGlite started from the build's migrated template (healthy in ${pglite_healthy_ms} ms)"
else
  fail "PGlite did not use the migrated template"
fi
body="$(printf '{"email":"pglite-%s@example.com","password":"correct horse battery staple %s","fullName":"Embedded Test","role":"homeowner"}' "$suffix" "$suffix")"
code="$(http POST "http://127.0.0.1:$port/auth/register" "$body")"
if [[ "$code" == 202 ]]; then
  pass "POST /auth/register on PGlite -> 202"
else
  fail "POST /auth/register on PGlite -> $code $(head -c 300 "$work/body")"
fi
stop_container "$container-pglite"

# ---------------------------------------------------------------------------------------------
log "9/9 summary"
total_s=$(($(ms_since "$started_ns") / 1000))
cat >&2 <<EOF

  image            $IMAGE
  image size       ${image_mb} MB (base ${BASE_IMAGE##*/} $((base_bytes / 1000000)) MB + application ${app_mb} MB)
  build            $((build_ms / 1000)) s
  start to healthy ${first_healthy_ms} ms (WEB_CONCURRENCY=2: ${cluster_healthy_ms} ms, PGlite first start: ${pglite_healthy_ms} ms)
  CPU until healthy ${startup_cpu_ms} ms (PID 1; load average now: $(cut -d' ' -f1-3 /proc/loadavg))
  SIGTERM to exit  ${first_stop_ms} ms (WEB_CONCURRENCY=2: ${cluster_stop_ms} ms)
  total            ${total_s} s

EOF
echo "container: $passed passed, $failed failed"
((failed == 0))
