#!/bin/bash
# Build the lab's "nginx" container image (Debian bookworm's nginx, offline from Debian packages)
# as an OCI image layout, for the lab's registry mirror to serve as library/nginx:latest.
# Usage: LABOS_SOURCES=/path/to/apt.sources build.sh OUT_DIR
# Writes OUT_DIR/oci (OCI layout, tag "latest") and OUT_DIR/packages.txt (the packages whose files
# the image keeps: slim.sh leaves only what nginx runs from).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: LABOS_SOURCES=FILE build.sh OUT_DIR}

if [ -z "${LABOS_SOURCES:-}" ]; then
  echo "build.sh: LABOS_SOURCES is not set: point it at an apt sources file (one-line or deb822) for bookworm" >&2
  exit 2
fi
if [ ! -s "$LABOS_SOURCES" ]; then
  echo "build.sh: LABOS_SOURCES=$LABOS_SOURCES does not exist or is empty" >&2
  exit 2
fi
for t in mmdebstrap umoci; do
  command -v "$t" >/dev/null || { echo "build.sh: $t not found" >&2; exit 2; }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/nginx-image-build.XXXXXX")
cleanup() {
  # Never recurse into anything still mounted below WORK.
  local m
  for m in $(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The root fs goes straight into a tarball, which becomes the image's one layer verbatim: its
# ownership is right whether mmdebstrap ran as root or in an unprivileged user namespace.
if [ "$(id -u)" = 0 ]; then MODE=root; else MODE=unshare; fi

echo "==> mmdebstrap ($MODE mode, essential + nginx, then only what nginx runs from)"
mmdebstrap --mode="$MODE" --variant=essential --format=tar --quiet \
  --include=nginx \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='"'"$HERE"'/customize.sh" "$1"' \
  --customize-hook='"'"$HERE"'/slim.sh" "$1" "'"$WORK"'/packages.txt"' \
  bookworm "$WORK/rootfs.tar" "$LABOS_SOURCES"

echo "==> OCI image (umoci)"
IMG="$WORK/oci"
umoci init --layout "$IMG"
umoci new --image "$IMG:latest"
umoci raw add-layer --image "$IMG:latest" \
  --history.created_by "mmdebstrap --variant=essential --include=nginx bookworm, then images/nginx/slim.sh" "$WORK/rootfs.tar"
umoci config --image "$IMG:latest" \
  --os linux --architecture amd64 --author corelab \
  --config.env 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;' \
  --config.exposedports 80/tcp \
  --config.stopsignal SIGQUIT \
  --config.label org.opencontainers.image.title=nginx \
  --config.label org.opencontainers.image.description="nginx from Debian bookworm packages (nginx and the files it runs from), built offline by corelab" \
  --history.created_by 'CMD ["nginx", "-g", "daemon off;"]'
umoci gc --layout "$IMG"

rm -rf "$OUT/oci" "$OUT/packages.txt"
mv "$IMG" "$OUT/oci"
mv "$WORK/packages.txt" "$OUT/packages.txt"
echo "==> done: $(du -sh "$OUT/oci" | cut -f1) OCI layout, $(wc -l < "$OUT/packages.txt") packages in $OUT"
