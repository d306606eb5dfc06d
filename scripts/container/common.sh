# Shared settings and helpers for the scripts in scripts/container/ (sourced, not run).
# shellcheck shell=bash

# shellcheck disable=SC2034 # the constants are used by the scripts that source this file
# The Node.js version the Dockerfile's base image pins: the release CI runs on (.ci/node.sh, which
# also installs it for make-base-image.sh).
# shellcheck source=SCRIPTDIR/../../.ci/node.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../.ci/node.sh"
NODE_VERSION="$NODE_PIN_VERSION"
BASE_IMAGE="docker.io/library/node:${NODE_VERSION}-bookworm-slim"
# The image the test builds; override with HOMEFRONT_IMAGE.
IMAGE="${HOMEFRONT_IMAGE:-localhost/homefront:test}"
# OCI runtime: Debian's runc works in this sandbox (the brief's known-good choice).
OCI_RUNTIME="${OCI_RUNTIME:-runc}"

log() { printf '[container %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# ensure_container_tools: podman, buildah and runc from Debian when missing, and a storage driver
# that works on this machine. Safe to call repeatedly.
ensure_container_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v "$OCI_RUNTIME" >/dev/null || missing+=("$OCI_RUNTIME")
  if ((${#missing[@]})); then
    [[ $EUID -eq 0 ]] || die "missing ${missing[*]}; install them (apt-get install -y podman buildah runc) or run as root"
    log "installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    # Lock::Timeout: wait for another apt/dpkg run on the machine instead of failing at once.
    timeout 300 apt-get -o DPkg::Lock::Timeout=120 update -qq >/dev/null
    timeout 600 apt-get -o DPkg::Lock::Timeout=120 install -y -qq podman buildah runc >/dev/null
  fi
  ensure_storage
}

# ensure_storage: keeps the default overlay driver when it can mount here, and otherwise writes an
# /etc/containers/storage.conf selecting vfs (slower, copies each layer, but needs no kernel
# overlay support). A storage.conf that exists is left alone.
ensure_storage() {
  [[ -f /etc/containers/storage.conf ]] && return 0
  local probe
  if probe="$(buildah from scratch 2>/dev/null)" && buildah mount "$probe" >/dev/null 2>&1; then
    buildah rm "$probe" >/dev/null 2>&1 || true
    return 0
  fi
  if [[ -n "${probe:-}" ]]; then buildah rm "$probe" >/dev/null 2>&1 || true; fi
  log "overlay storage does not work here; switching to vfs in /etc/containers/storage.conf"
  # Containers and images made with another driver are unusable after the switch; drop them.
  podman system reset --force >/dev/null 2>&1 || true
  mkdir -p /etc/containers
  cat >/etc/containers/storage.conf <<'EOF'
# Written by homefront scripts/container/common.sh: overlay could not mount on this machine.
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
}
