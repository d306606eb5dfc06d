#!/usr/bin/env bash
# Test plumbing: builds local stand-ins for the third-party images docker-compose.yml pins, for
# machines that have podman/buildah but no container registry (the development sandbox and its CI
# reach only the npm registry and Debian's archive). Like make-base-image.sh does for the Node base
# image, each stand-in is tagged with the pinned name, so `podman run postgres:15.20-bookworm` finds
# it locally. They are not the official images and are never published; scripts/container/
# compose-test.sh runs the compose file on them.
#
# - PostgreSQL (postgres:<version>-bookworm): this machine's Debian postgresql-15 package (the
#   same major version; the official image builds from PostgreSQL's Debian packages too), with
#   the C runtime, tzdata and the C.UTF-8 locale, the official image's user (postgres, uid 999),
#   data directory, PATH and environment contract (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB:
#   an empty data directory is initialised with them, scram-sha-256 for network clients).
# - MailDev (maildev/maildev:<version>): the same version of the maildev npm package that the
#   official image is built from, installed with npm ci from stand-ins/maildev/package-lock.json
#   on the Node base stand-in; SMTP on 1025, web UI and REST API on 1080, as in the image.
#
# Usage: scripts/container/make-stand-ins.sh [--force]   (idempotent: existing tags are kept)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$here/common.sh"
repo="$(cd "$here/../.." && pwd)"

force=false
[[ "${1:-}" == "--force" ]] && force=true

# The pins, read from the compose file itself: the one place they are written.
pinned() { sed -n "s|^ *image: *\\($1:[^ #]*\\).*|\\1|p" "$repo/docker-compose.yml" | head -1; }
PG_PIN="$(pinned postgres)"
MAILDEV_PIN="$(pinned maildev/maildev)"
[[ -n "$PG_PIN" && -n "$MAILDEV_PIN" ]] || die "docker-compose.yml names no postgres or maildev/maildev image"
PG_IMAGE="docker.io/library/$PG_PIN"
MAILDEV_IMAGE="docker.io/$MAILDEV_PIN"

ensure_container_tools

# Temporary root filesystems and build containers, removed however the script ends.
scratch=()
containers=()
cleanup() {
  local item
  for item in "${containers[@]}"; do buildah rm "$item" >/dev/null 2>&1 || true; done
  for item in "${scratch[@]}"; do rm -rf "$item"; done
}
trap cleanup EXIT

wanted() { $force || ! podman image exists "$1"; }

# ---------------------------------------------------------------------------------------------
make_postgres() {
  local major="${PG_PIN#postgres:}"
  major="${major%%.*}"
  local pgdir="/usr/lib/postgresql/$major"
  if [[ ! -x "$pgdir/bin/postgres" ]]; then
    [[ $EUID -eq 0 ]] || die "postgresql-$major is not installed (apt-get install -y postgresql-$major)"
    log "installing postgresql-$major from Debian"
    timeout 600 apt-get -o DPkg::Lock::Timeout=120 install -y -qq "postgresql-$major" >/dev/null
  fi
  local version
  version="$("$pgdir/bin/postgres" --version | awk '{ print $3 }')"
  if [[ "postgres:$version-bookworm" != "$PG_PIN" ]]; then
    log "note: this machine's PostgreSQL is $version; the stand-in for $PG_PIN carries it (same major version)"
  fi

  local root ctr
  root="$(mktemp -d /var/tmp/postgres-rootfs.XXXXXX)"
  scratch+=("$root")
  log "assembling PostgreSQL $version in $root"

  mkdir -p "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,share,local/bin} \
    "$root"/{etc,root,tmp,var/tmp,run/postgresql,proc,sys,dev,var/lib/postgresql/data}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp" "$root/var/tmp"

  # copy_libs FILE: every shared library the loader resolves for FILE, under its own name.
  copy_libs() {
    local lib dir
    while read -r lib; do
      dir="$(readlink -f "$(dirname "$lib")")"
      mkdir -p "$root$dir"
      [[ -e "$root$dir/$(basename "$lib")" ]] || cp -L "$lib" "$root$dir/"
    done < <(ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }')
  }

  # The server, its client tools and modules (without the LLVM JIT, which pulls in 100 MB of
  # libLLVM and is off unless asked for), the share files, time zones and the C.UTF-8 locale.
  mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
  cp -a "$pgdir" "$root/usr/lib/postgresql/"
  rm -rf "$root$pgdir/lib/bitcode" "$root$pgdir"/lib/llvmjit*
  cp -a "/usr/share/postgresql/$major" "$root/usr/share/postgresql/"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
  mkdir -p "$root/usr/lib/locale"
  cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
  local file
  for file in "$root$pgdir"/bin/* "$root$pgdir"/lib/*.so; do
    copy_libs "${file#"$root"}"
  done
  # The loader, a shell for the entrypoint and health check, and what the entrypoint calls.
  while read -r file; do
    [[ -f "$file" || -L "$file" ]] || continue
    mkdir -p "$root$(readlink -f "$(dirname "$file")")"
    cp -a "$file" "$root$(readlink -f "$(dirname "$file")")/"
  done < <(dpkg -L libc6 | grep -E '^/(usr/)?lib(64)?/x86_64-linux-gnu/[^/]+$')
  ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
  local tool bin
  for tool in dash cat chmod chown id mkdir mktemp rm setpriv; do
    bin="$(readlink -f "$(type -P "$tool")")"
    mkdir -p "$root$(dirname "$bin")"
    cp "$bin" "$root$bin"
    copy_libs "$bin"
  done
  ln -s dash "$root/usr/bin/sh"

  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
postgres:x:999:999::/var/lib/postgresql:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
postgres:x:999:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  touch "$root/etc/hosts" "$root/etc/resolv.conf"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/run/postgresql"

  # The official image's contract, in a few lines: initialise an empty data directory from
  # POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, then run the server as the postgres user.
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /run/postgresql
  chown -R postgres:postgres "$PGDATA" /run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?is required (as with the official image)}"
  user="${POSTGRES_USER:-postgres}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "${POSTGRES_DB:-$user}" != postgres ]; then
    echo "CREATE DATABASE \"${POSTGRES_DB:-$user}\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "initialised $PGDATA for $user"
fi
exec "$@"
EOF
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"

  log "sanity check: the stand-in's postgres runs from its own root"
  env -i PATH=/usr/bin "$(type -P chroot)" "$root" "$pgdir/bin/postgres" --version >/dev/null

  ctr="$(buildah from scratch)"
  containers+=("$ctr")
  buildah copy --quiet "$ctr" "$root" / >/dev/null
  buildah config \
    --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$pgdir/bin" \
    --env PGDATA=/var/lib/postgresql/data \
    --env PG_MAJOR="$major" \
    --env PG_VERSION="$version" \
    --env LANG=C.UTF-8 \
    --entrypoint '["docker-entrypoint.sh"]' \
    --cmd '["postgres"]' \
    --port 5432 \
    --volume /var/lib/postgresql/data \
    --stop-signal SIGINT \
    --label org.opencontainers.image.description="Test stand-in for $PG_PIN (Debian's PostgreSQL $version), made by scripts/container/make-stand-ins.sh" \
    "$ctr"
  buildah commit --quiet --format docker "$ctr" "$PG_IMAGE" >/dev/null
  log "done: $(podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$PG_IMAGE")"
}

# ---------------------------------------------------------------------------------------------
make_maildev() {
  local version="${MAILDEV_PIN#maildev/maildev:}"
  local context="$here/stand-ins/maildev"
  local locked
  locked="$(node -p "require('$context/package-lock.json').packages['node_modules/maildev'].version")"
  [[ "$locked" == "$version" ]] || die "stand-ins/maildev locks maildev $locked; docker-compose.yml pins $version"
  timeout 300 bash "$here/make-base-image.sh" >/dev/null

  local args=(
    bud --isolation=chroot --pull=never --network=host --runtime="$OCI_RUNTIME" --format=docker
    --layers --build-arg "BASE_IMAGE=$BASE_IMAGE" -f "$context/Containerfile"
  )
  # As for the application image: a TLS-inspecting proxy's CA reaches npm as a build secret.
  local ca_file="${NODE_EXTRA_CA_CERTS:-}"
  [[ -z "$ca_file" ]] && ca_file="$(npm config get cafile 2>/dev/null || true)"
  if [[ -n "$ca_file" && "$ca_file" != null && "$ca_file" != undefined && -s "$ca_file" ]]; then
    args+=(--secret "id=npm_ca,src=$ca_file")
  fi
  log "building the MailDev $version stand-in from npm"
  local build_log
  build_log="$(mktemp)"
  scratch+=("$build_log")
  if ! timeout 900 buildah "${args[@]}" -t "$MAILDEV_IMAGE" "$context" >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    die "the MailDev stand-in did not build"
  fi
  log "done: $(podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$MAILDEV_IMAGE")"
}

if wanted "$PG_IMAGE"; then make_postgres; else log "$PG_IMAGE already present"; fi
if wanted "$MAILDEV_IMAGE"; then make_maildev; else log "$MAILDEV_IMAGE already present"; fi
