#!/bin/bash
# Build the "labos" guest image (Debian bookworm, offline from Debian packages).
# Usage: LABOS_SOURCES=/path/to/apt.sources build.sh OUT_DIR
# Writes OUT_DIR/{disk.qcow2,vmlinuz,initrd.img,initrd-plain.img,cmdline,packages.txt}.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: LABOS_SOURCES=FILE build.sh OUT_DIR}
DISK_SIZE=${LABOS_DISK_SIZE:-12G}   # virtual size; qcow2 stays sparse
USR_MIB=3072                        # partition 1, USR-A: the read-only /usr (ext4)

if [ -z "${LABOS_SOURCES:-}" ]; then
  echo "build.sh: LABOS_SOURCES is not set: point it at an apt sources file (one-line or deb822) for bookworm" >&2
  exit 2
fi
if [ ! -s "$LABOS_SOURCES" ]; then
  echo "build.sh: LABOS_SOURCES=$LABOS_SOURCES does not exist or is empty" >&2
  exit 2
fi
for t in mmdebstrap mke2fs sfdisk qemu-img; do
  command -v "$t" >/dev/null || { echo "build.sh: $t not found" >&2; exit 2; }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# corelab makes the scratch folder (BUILD_SCRATCH) so that it can remove it if this script is killed.
WORK=${BUILD_SCRATCH:-$(mktemp -d "${TMPDIR:-/var/tmp}/labos-build.XXXXXX")}
mkdir -p "$WORK"
cleanup() {
  # Never recurse into anything still mounted below WORK (mmdebstrap's /dev, /proc).
  local m
  for m in $(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

INCLUDE=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$HERE/packages.list" | tr -d ' \t' | paste -sd, -)

# As root: build straight into a directory. Unprivileged: unshare mode into a
# tarball, unpacked under fakeroot so mke2fs records root ownership.
if [ "$(id -u)" = 0 ]; then
  MODE=root; TARGET="$WORK/root"
else
  command -v fakeroot >/dev/null || { echo "build.sh: unprivileged build needs fakeroot" >&2; exit 2; }
  MODE=unshare; TARGET="$WORK/root.tar"
fi

echo "==> mmdebstrap ($MODE mode)"
mmdebstrap --mode="$MODE" --variant=minbase --quiet \
  --include="$INCLUDE" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --essential-hook='mkdir -p "$1/etc/dracut.conf.d" && printf "%s\n" "# labos build: a tiny initramfs at kernel install; customize.sh makes the real one" "dracutmodules=\" base \"" > "$1/etc/dracut.conf.d/00-labos-build.conf"' \
  --customize-hook='"'"$HERE"'/customize.sh" "$1"' \
  bookworm "$TARGET" "$LABOS_SOURCES"

# The disk, laid out like Flatcar's: partition 1 (USR-A) holds /usr, the OS, mounted read-only;
# partition 2 (ROOT) holds each node's root (a copy-on-write overlay per node): the factory /etc,
# /var, /home and /root, the merged-/usr links, and /.labos-firstboot, the flag that makes the
# first boot Ignition's (Ignition may format ROOT anew; the initramfs then lays it out again).
echo "==> disk (GPT: USR-A ${USR_MIB} MiB, ROOT the rest)"
rm -f "$WORK/disk.raw"
truncate -s "$DISK_SIZE" "$WORK/disk.raw"
printf '%s\n' 'label: gpt' \
  "start=2048, size=$((USR_MIB * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=USR-A" \
  'type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=ROOT' | sfdisk -q "$WORK/disk.raw"
read -r ROOT_START ROOT_SECTORS < <(sfdisk -d "$WORK/disk.raw" | awk -F'[=,]' '/name="ROOT"/ { print $2 + 0, $4 + 0 }')
[ -n "${ROOT_SECTORS:-}" ] || { echo "build.sh: sfdisk did not make the ROOT partition" >&2; exit 1; }
LAZY=lazy_itable_init=0,lazy_journal_init=0
MKFS_USR=(mke2fs -q -F -t ext4 -m 0 -L USR-A -E "offset=1048576,$LAZY")
MKFS_ROOT=(mke2fs -q -F -t ext4 -m 0 -L ROOT -E "offset=$((ROOT_START * 512)),$LAZY")
setup_root="$HERE/files/usr/lib/dracut/modules.d/99labos/labos-setup-root.sh"
layout='mkdir -p "$1/usr/share/factory" && for d in etc var home root; do mv "$1/$d" "$1/usr/share/factory/$d"; done &&
  mkdir -p -m 0755 "$2/usr" && bash "$3" "$2" "$1/usr/share/factory" && touch "$2/.labos-firstboot"'
if [ "$MODE" = root ]; then
  ROOT="$WORK/root"
  bash -c "$layout" _ "$ROOT" "$WORK/rootpart" "$setup_root"
  "${MKFS_USR[@]}" -d "$ROOT/usr" "$WORK/disk.raw" "${USR_MIB}M"
  "${MKFS_ROOT[@]}" -d "$WORK/rootpart" "$WORK/disk.raw" "$((ROOT_SECTORS / 2))k"
else
  ROOT="$WORK/tree"; mkdir "$ROOT"
  fakeroot -s "$WORK/fakeroot.state" tar -C "$ROOT" --numeric-owner -xpf "$WORK/root.tar"
  fakeroot -i "$WORK/fakeroot.state" -s "$WORK/fakeroot.state" bash -c "$layout" _ "$ROOT" "$WORK/rootpart" "$setup_root"
  fakeroot -i "$WORK/fakeroot.state" "${MKFS_USR[@]}" -d "$ROOT/usr" "$WORK/disk.raw" "${USR_MIB}M"
  fakeroot -i "$WORK/fakeroot.state" "${MKFS_ROOT[@]}" -d "$WORK/rootpart" "$WORK/disk.raw" "$((ROOT_SECTORS / 2))k"
fi

echo "==> kernel"
cp "$(ls "$ROOT"/boot/vmlinuz-* | sort -V | tail -1)" "$OUT/vmlinuz.tmp"
cp "$(ls "$ROOT"/boot/initrd.img-* | sort -V | tail -1)" "$OUT/initrd.img.tmp"
cp "$(ls "$ROOT"/boot/initrd-plain.img-* | sort -V | tail -1)" "$OUT/initrd-plain.img.tmp"
chmod 0644 "$OUT/vmlinuz.tmp" "$OUT/initrd.img.tmp" "$OUT/initrd-plain.img.tmp"
dpkg-query --admindir="$ROOT/usr/share/factory/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Package}=${Version}\n' \
  | awk '$1 == "ii" { print $2 }' | sort > "$OUT/packages.txt.tmp"
tr -s ' \n' ' ' < "$HERE/cmdline" | sed 's/ $//' > "$OUT/cmdline.tmp"; echo >> "$OUT/cmdline.tmp"

echo "==> qcow2"
qemu-img convert -f raw -O qcow2 "$WORK/disk.raw" "$OUT/disk.qcow2.tmp"
for f in disk.qcow2 vmlinuz initrd.img initrd-plain.img cmdline packages.txt; do mv -f "$OUT/$f.tmp" "$OUT/$f"; done
echo "==> done: $(du -h "$OUT/disk.qcow2" | cut -f1) disk.qcow2, $(wc -l < "$OUT/packages.txt") packages in $OUT"
