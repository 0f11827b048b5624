#!/bin/bash
# mmdebstrap customize hook for the nginx image, run last: $1 is the root fs, $2 the file to write
# the kept packages to (name=version per line). It leaves in the root fs only what nginx runs
# from, as distroless images do: the nginx binary and the libraries it loads (ldd's closure, the
# loader included), its configuration, modules and default page, /bin/sh (dash), the account and
# name-service files, and the copyright files of the packages those come from. Everything else of
# the essential set (perl, dpkg and its database, coreutils, ...) goes.
#
# Why: every guest pulls this image through the lab's registry mirror and unpacks it under TCG. The
# whole essential set made a 27 MB gzip layer (66 MB unpacked), and a pull took 40-45 s of the swarm
# scenario, three times per run. nginx's own closure is a tenth of that.
set -euo pipefail
ROOT=${1:?usage: slim.sh ROOTFS KEPT_PACKAGES_FILE}
KEPT=${2:?usage: slim.sh ROOTFS KEPT_PACKAGES_FILE}
W=$(mktemp -d "${TMPDIR:-/var/tmp}/nginx-slim.XXXXXX")
trap 'rm -rf "$W"' EXIT

# A path inside the image with every symlinked directory in it resolved (merged /usr: /lib is
# usr/lib), printed as the image sees it.
canon() { chroot "$ROOT" /usr/bin/readlink -f "$1"; }
# A path and, if it is a symlink, what it points to (resolved): both stay.
keep() {
  local p=$1 dir
  dir=$(canon "$(dirname "$p")")
  echo "${dir%/}/$(basename "$p")"
  canon "$p"
}

ELFS=(/usr/sbin/nginx /usr/bin/dash)
if [ -d "$ROOT/usr/lib/nginx" ]; then
  while IFS= read -r so; do ELFS+=("$so"); done < <(cd "$ROOT" && find usr/lib/nginx -name '*.so' | sed 's#^#/#')
fi
{
  # The top-level links of merged /usr.
  for l in /bin /sbin /lib /lib64; do if [ -L "$ROOT$l" ]; then echo "$l"; fi; done
  for e in "${ELFS[@]}"; do
    keep "$e"
    # ldd lines: "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
    chroot "$ROOT" /usr/bin/ldd "$e" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
      while IFS= read -r lib; do keep "$lib"; done
  done
  keep /usr/bin/sh
  for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/nsswitch.conf /etc/hosts /etc/host.conf \
    /etc/ld.so.conf /etc/os-release /etc/debian_version /usr/lib/os-release; do
    if [ -e "$ROOT$f" ]; then keep "$f"; fi
  done
  for d in etc/ld.so.conf.d etc/nginx usr/share/nginx usr/lib/nginx var/www var/log/nginx; do
    if [ -d "$ROOT/$d" ]; then (cd "$ROOT" && find "$d" \( -type f -o -type l \) | sed 's#^#/#'); fi
  done
  # mmdebstrap's own settings, which it removes itself after the hooks (and fails if they are gone).
  (cd "$ROOT" && find etc -xdev -name '*mmdebstrap*' | sed 's#^#/#')
} | grep -v -e '^/dev/' -e '^/proc/' | sort -u > "$W/keep"

# The packages the kept files come from (dpkg knows a file by the path its package ships, which
# with merged /usr may be /lib/... for a file in /usr/lib/...).
while IFS= read -r f; do
  if [ -f "$ROOT$f" ] && [ ! -L "$ROOT$f" ]; then
    chroot "$ROOT" dpkg-query -S "$f" 2>/dev/null || chroot "$ROOT" dpkg-query -S "${f#/usr}" 2>/dev/null || true
  fi
done < "$W/keep" | grep -v '^diversion ' | sed 's/: .*//' | tr ',' '\n' | sed 's/^ *//; s/:amd64$//' | sort -u > "$W/packages"
test -s "$W/packages"
while IFS= read -r p; do
  chroot "$ROOT" dpkg-query -W -f '${Package}=${Version}\n' "$p"
  if [ -e "$ROOT/usr/share/doc/$p/copyright" ]; then echo "/usr/share/doc/$p/copyright" >> "$W/keep"; fi
done < "$W/packages" > "$KEPT"
sort -u -o "$W/keep" "$W/keep"

# Everything that is not kept goes: files and links first, then the folders left empty, except
# the ones a running nginx or docker needs to be there.
# (/dev, /proc and /sys are left alone: mmdebstrap has things mounted there while hooks run.)
(cd "$ROOT" && find . -xdev \( -path ./dev -o -path ./proc -o -path ./sys \) -prune -o \( -type f -o -type l -o -type p -o -type s \) -print | sed 's#^\.##') | sort > "$W/all"
comm -23 "$W/all" "$W/keep" | while IFS= read -r f; do rm -f "$ROOT$f"; done
(cd "$ROOT" && find . -xdev -mindepth 1 -depth -type d -empty \
  ! -path './dev*' ! -path './proc*' ! -path './sys*' ! -path ./tmp ! -path ./run ! -path ./root \
  ! -path ./var/lib/nginx ! -path ./var/log/nginx ! -path ./etc/nginx/conf.d ! -path ./etc/nginx/modules-enabled \
  ! -path ./var/tmp -delete)
mkdir -p "$ROOT/var/lib/nginx" "$ROOT/run" "$ROOT/tmp" "$ROOT/var/tmp"
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"

# The loader's cache for what is left (ldconfig is gone from the image: the host's, pointed at it).
ldconfig -r "$ROOT"
# The result must still run: nginx accepts its configuration.
chroot "$ROOT" /usr/sbin/nginx -t 2>&1 | cat
test "$(chroot "$ROOT" /bin/sh -c 'echo ok')" = ok
rm -f "$ROOT/run/nginx.pid"
