#!/usr/bin/env bash
# npm run test:compose — runs docker-compose.yml with Debian's podman-compose, as a user would,
# with no .env:
#   1. the local profile (api-local, postgres, maildev): build, up, healthy; register, read the
#      verification mail from MailDev's REST API, open its link (the API's own page) and post the
#      form, sign in; stop (exit code 0), down -v;
#   2. the external profile (api) against the machine's PostgreSQL: up, healthy; the migrations
#      landed in that database; the bootstrap admin signs in and finds a user registered through
#      the API; stop (exit code 0), down -v.
#
# No container registry is reachable here: the images the compose file pins are local stand-ins
# (make-base-image.sh, make-stand-ins.sh; test plumbing). podman-compose 1.0 (Debian 12) has no
# profiles, so each run names the services its profile holds, read from the file's `profiles:`.
# The machine's PostgreSQL listens on loopback only: the external run reaches it through a TCP
# forwarder on the compose network's gateway (host.containers.internal).
#
# Needs root (apt-get, rootful podman) and PostgreSQL at PG_ADMIN_URL (default
# postgres://postgres@127.0.0.1:5432/postgres). Leaves no container, volume, network or database
# behind, and exits non-zero on any failure. COMPOSE_HEALTHY_TIMEOUT (default 180 s).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$here/common.sh"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
HEALTHY_TIMEOUT="${COMPOSE_HEALTHY_TIMEOUT:-180}"

suffix="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(4).toString("hex"))')"
project="hfcompose$suffix"
database="homefront_compose_$suffix"
work="$(mktemp -d)"
database_created=false
forwarder_pid=""
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

[[ ! -e .env ]] || die ".env exists in $repo: this test checks that the compose file runs without one (podman-compose would read it); move it aside"

# This sandbox's limits (see test.sh: rootful podman's default open-file limit is above the hard
# limit here) and OCI runtime, for every podman command podman-compose runs: a containers.conf
# of this test's own, not the machine's.
export CONTAINERS_CONF="$work/containers.conf"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "$OCI_RUNTIME"
EOF

# podman-compose prints every podman command it runs: kept in a log, shown on failure.
compose() {
  printf '\n$ podman-compose %s\n' "$*" >>"$work/compose.log"
  timeout 900 podman-compose --no-ansi -p "$project" "$@" >>"$work/compose.log" 2>&1
}
files=(-f docker-compose.yml)

containers_of_project() {
  podman ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=$project" 2>/dev/null
}

cleanup() {
  local rc=$?
  set +e
  if ((rc != 0)) || ((failed > 0)); then
    local name
    for name in $(containers_of_project); do
      log "logs of $name (last 30 lines):"
      podman logs --tail 30 "$name" >&2 2>&1
    done
    log "podman-compose (last 40 lines):"
    tail -n 40 "$work/compose.log" >&2
  fi
  compose "${files[@]}" down -v >/dev/null 2>&1
  if [[ -n "$forwarder_pid" ]]; then kill "$forwarder_pid" 2>/dev/null; wait "$forwarder_pid" 2>/dev/null; fi
  for name in $(containers_of_project); do podman rm -f -t 0 "$name" >/dev/null 2>&1; done
  podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null 2>&1
  podman network rm -f "${project}_default" >/dev/null 2>&1
  if $database_created; then
    psql "$PG_ADMIN_URL" -qAt -c "drop database if exists $database with (force)" >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT

secret() { node -e 'process.stdout.write(require("node:crypto").randomBytes(48).toString("base64url"))'; }
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# The services of a profile, as `docker compose --profile NAME` would select them (PyYAML comes
# with podman-compose).
services_of() {
  python3 -c '
import sys, yaml
services = yaml.safe_load(open("docker-compose.yml"))["services"]
print(" ".join(name for name, service in services.items() if sys.argv[1] in service.get("profiles", [])))
' "$1"
}

# wait_healthy CONTAINER: runs its health check (podman healthcheck run; there is no systemd
# timer here to run it on schedule) until it passes.
wait_healthy() {
  local name="$1" deadline=$(($(date +%s) + HEALTHY_TIMEOUT)) started
  started=$(date +%s)
  while (($(date +%s) < deadline)); do
    [[ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" == true ]] ||
      die "$name is not running (exit code $(podman inspect --format '{{.State.ExitCode}}' "$name" 2>/dev/null))"
    if podman healthcheck run "$name" >/dev/null 2>&1; then
      pass "$name healthy after $(($(date +%s) - started)) s"
      return 0
    fi
    sleep 1
  done
  fail "$name not healthy within ${HEALTHY_TIMEOUT}s"
  return 1
}

# stop_service SERVICE CONTAINER: podman-compose stop, then the exit code must be 0 (graceful).
stop_service() {
  compose "${files[@]}" stop "$1"
  local code
  code="$(podman inspect --format '{{.State.ExitCode}}' "$2")"
  if [[ "$code" == 0 ]]; then pass "$2 stopped by SIGTERM with exit code 0"; else fail "$2 exit code $code after stop"; fi
}

# down: podman-compose down -v; nothing of the project may be left.
down() {
  compose "${files[@]}" down -v
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  local left
  left="$(containers_of_project)$(podman volume ls -q --filter "label=io.podman.compose.project=$project")"
  if [[ -z "$left" ]]; then pass "down -v removed the containers and volumes"; else fail "left after down: $left"; fi
}

# http METHOD URL [BODY] [CONTENT-TYPE]: prints the status; the body lands in $work/body.
http() {
  local args=(-sS -o "$work/body" -w '%{http_code}' -X "$1" --max-time 30)
  [[ -n "${3:-}" ]] && args+=(-H "content-type: ${4:-application/json}" --data-binary "$3")
  [[ -n "${TOKEN:-}" ]] && args+=(-H "authorization: Bearer $TOKEN")
  curl "${args[@]}" "$2" || true
}
json() { node -e 'const v=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(eval(process.argv[2]) ?? "")' "$work/body" "$1"; }

# ---------------------------------------------------------------------------------------------
log "1/5 tools and images"
ensure_container_tools
if ! command -v podman-compose >/dev/null; then
  [[ $EUID -eq 0 ]] || die "podman-compose is missing (apt-get install -y podman-compose)"
  log "installing podman-compose from Debian"
  timeout 600 apt-get -o DPkg::Lock::Timeout=120 install -y -qq podman-compose >/dev/null
fi
log "$(podman-compose version 2>/dev/null | grep -i 'podman-compose' | head -1)"
timeout 600 bash "$here/make-base-image.sh"
timeout 1200 bash "$here/make-stand-ins.sh"

export HOMEFRONT_IMAGE="localhost/homefront:compose-test"
local_services="$(services_of local)"
external_services="$(services_of external)"
[[ -n "$local_services" && -n "$external_services" ]] || die "no services in the local or external profile"
log "profiles: local = $local_services; external = $external_services"

# The compose file's build (build: .), with what this sandbox needs: a local base image only, the
# host's network for npm, chroot isolation, Docker format (keeps HEALTHCHECK), and the npm CA of
# a TLS-inspecting proxy as the Dockerfile's optional build secret.
build_args="--pull=never --network=host --isolation=chroot --format=docker --layers --ulimit=nofile=20000:20000"
ca_file="${NODE_EXTRA_CA_CERTS:-}"
[[ -z "$ca_file" ]] && ca_file="$(npm config get cafile 2>/dev/null || true)"
if [[ -n "$ca_file" && "$ca_file" != null && "$ca_file" != undefined && -s "$ca_file" ]]; then
  build_args+=" --secret=id=npm_ca,src=$ca_file"
fi
if compose "${files[@]}" --podman-build-args="$build_args" build api-local && podman image exists "$HOMEFRONT_IMAGE"; then
  pass "podman-compose build: $HOMEFRONT_IMAGE"
else
  die "podman-compose build failed"
fi

# ---------------------------------------------------------------------------------------------
log "2/5 the local profile: up ($local_services)"
port="$(free_port)"
mail_port="$(free_port)"
export HOMEFRONT_PORT="$port" MAILDEV_PORT="$mail_port"
base="http://127.0.0.1:$port"
# shellcheck disable=SC2086 # the service names are words
compose "${files[@]}" up -d $local_services
wait_healthy "${project}_postgres_1"
wait_healthy "${project}_api-local_1"

log "3/5 the local profile: register, verify through MailDev and the API's page, sign in"
email="compose-$suffix@example.com"
password="correct horse battery staple $suffix"
code="$(http POST "$base/auth/register" "{\"email\":\"$email\",\"password\":\"$password\",\"fullName\":\"Compose Test\",\"role\":\"homeowner\"}")"
[[ "$code" == 202 ]] && pass "POST /auth/register -> 202" || fail "POST /auth/register -> $code $(head -c 300 "$work/body")"

link=""
for _ in $(seq 1 60); do
  if [[ "$(http GET "http://127.0.0.1:$mail_port/email")" == 200 ]]; then
    link="$(json "(v.find((m) => m.to.some((t) => t.address === '$email')) ?? {}).text?.match(/http\\S+\\/verify-email\\?token=[\\w-]+/)?.[0]")"
    [[ -n "$link" ]] && break
  fi
  sleep 1
done
if [[ "$link" == "http://localhost:$port/verify-email?token="* ]]; then
  pass "MailDev caught the verification mail; its link is the API's own page: ${link%%\?*}"
else
  fail "no verification link to http://localhost:$port/verify-email in MailDev (got '$link')"
fi

code="$(http GET "$link")"
token="$(sed -n 's/.*<input type="hidden" name="token" value="\([A-Za-z0-9_-]*\)">.*/\1/p' "$work/body")"
if [[ "$code" == 200 && -n "$token" ]]; then
  pass "GET the link -> 200, a form holding the token"
else
  fail "GET the link -> $code"
fi
code="$(http POST "$base/verify-email" "token=$token" application/x-www-form-urlencoded)"
if [[ "$code" == 200 ]] && grep -q 'Your email address is confirmed' "$work/body"; then
  pass "POST /verify-email (the form) -> 200, confirmed"
else
  fail "POST /verify-email -> $code $(head -c 300 "$work/body")"
fi

code="$(http POST "$base/auth/login" "{\"email\":\"$email\",\"password\":\"$password\"}")"
TOKEN="$(json 'v.access_token')"
if [[ "$code" == 200 && -n "$TOKEN" ]]; then pass "POST /auth/login -> 200"; else fail "POST /auth/login -> $code"; fi
code="$(http GET "$base/users/me")"
if [[ "$code" == 200 && "$(json 'v.emailVerified')" == true ]]; then
  pass "GET /users/me -> 200, emailVerified"
else
  fail "GET /users/me -> $code $(head -c 200 "$work/body")"
fi
TOKEN=""

log "4/5 the local profile: stop and down"
stop_service api-local "${project}_api-local_1"
down

# ---------------------------------------------------------------------------------------------
log "5/5 the external profile ($external_services) against the machine's PostgreSQL"
psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qAt -c "create database $database" >/dev/null ||
  die "PostgreSQL is not reachable at $PG_ADMIN_URL"
database_created=true
# The machine's PostgreSQL listens on loopback only, out of a container's reach. The project's
# network is made first (podman-compose then uses it) so that its gateway, which containers
# reach as host.containers.internal, is known: a TCP forwarder there leads to PostgreSQL, as a
# database server elsewhere on the network would be reached. The compose file runs as shipped.
podman network create --label "io.podman.compose.project=$project" "${project}_default" >/dev/null
gateway="$(podman network inspect --format '{{range .Subnets}}{{.Gateway}}{{end}}' "${project}_default")"
[[ -n "$gateway" ]] || die "the network ${project}_default has no gateway"
db_port="$(free_port)"
port="$(free_port)"
export HOMEFRONT_PORT="$port"
base="http://127.0.0.1:$port"
admin_password="an admin passphrase $suffix"
database_url="$(node -e 'const u=new URL(process.argv[1]);u.hostname="host.containers.internal";u.port=process.argv[2];u.pathname="/"+process.argv[3];console.log(u.href)' "$PG_ADMIN_URL" "$db_port" "$database")"
DATABASE_URL="$database_url" \
  JWT_SECRET="$(secret)" PASSWORD_PEPPER="$(secret)" MFA_ENCRYPTION_KEY="$(secret)" PUBLIC_APP_URL="$base" \
  ADMIN_EMAIL="admin-$suffix@example.com" ADMIN_PASSWORD="$admin_password" \
  compose "${files[@]}" up -d "$external_services"
# The bridge (and so the gateway address) exists once a container is attached; the API retries
# the database until it answers, so the forwarder may start after it.
node -e '
  const net = require("node:net");
  const target = new URL(process.argv[1]);
  net.createServer((client) => {
    const server = net.connect(Number(target.port || 5432), target.hostname);
    client.pipe(server).pipe(client);
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  }).listen(Number(process.argv[3]), process.argv[2]);
' "$PG_ADMIN_URL" "$gateway" "$db_port" &
forwarder_pid=$!
wait_healthy "${project}_api_1"
if [[ "$(podman inspect --format '{{.Config.Env}}' "${project}_api_1")" == *NODE_ENV=production* ]]; then
  pass "api runs with NODE_ENV=production"
else
  fail "api does not run with NODE_ENV=production"
fi
migrated="$(psql "${PG_ADMIN_URL%/*}/$database" -qAt -c 'select count(*) from drizzle.__drizzle_migrations' 2>/dev/null || echo 0)"
if ((migrated > 0)); then pass "$migrated migrations applied in $database"; else fail "no migrations in $database"; fi

email="external-$suffix@example.com"
code="$(http POST "$base/auth/register" "{\"email\":\"$email\",\"password\":\"$password\",\"fullName\":\"External Test\",\"role\":\"homeowner\"}")"
[[ "$code" == 202 ]] && pass "POST /auth/register -> 202" || fail "POST /auth/register -> $code"
code="$(http POST "$base/auth/login" "{\"email\":\"admin-$suffix@example.com\",\"password\":\"$admin_password\"}")"
TOKEN="$(json 'v.access_token')"
[[ "$code" == 200 ]] && pass "the bootstrap admin signs in" || fail "admin login -> $code"
code="$(http GET "$base/admin/users?email=$email")"
if [[ "$code" == 200 && "$(json 'v.items.length')" == 1 ]]; then
  pass "GET /admin/users finds the registered user"
else
  fail "GET /admin/users?email=… -> $code $(head -c 200 "$work/body")"
fi
TOKEN=""
rows="$(psql "${PG_ADMIN_URL%/*}/$database" -qAt -c "select count(*) from users where email = '$email'")"
[[ "$rows" == 1 ]] && pass "the user is a row of the machine's PostgreSQL" || fail "users rows for $email: $rows"

stop_service api "${project}_api_1"
down
kill "$forwarder_pid" 2>/dev/null || true
wait "$forwarder_pid" 2>/dev/null || true
forwarder_pid=""

echo "compose: $passed passed, $failed failed"
((failed == 0))
