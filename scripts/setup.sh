#!/usr/bin/env bash
# Installs what corelab needs on a Debian/Ubuntu host, idempotently:
#   1. host packages (QEMU, vde2, etcd, mmdebstrap, xorriso, socat, ...) via apt when root and missing;
#      otherwise prints the one apt command to run;
#   2. npm dependencies;
#   3. the labos guest image (built from Debian packages; a no-op when the recipe is unchanged).
# Pass --mirror URL to build labos from a Debian mirror other than this host's apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(openssh-client qemu-system-x86 qemu-utils vde2 mmdebstrap etcd-server etcd-client xorriso socat zstd e2fsprogs fdisk ignition util-linux ca-certificates curl docker-registry skopeo umoci chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: these host packages are missing: ${missing[*]}" >&2
    echo "setup: install them with:  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "setup: (or run this script as root, which installs them)" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: labos image"
node bin/corelab.js images build labos "$@"
