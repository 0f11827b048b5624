#!/bin/bash
# labos-setup-root: what a Debian root needs around the read-only /usr, on an empty ROOT (as
# Flatcar's baselayout does): /etc, /var, /home and /root from the image's factory copy, the
# merged-/usr links and the empty mount points. Anything already there is kept.
# The image build runs it too (build.sh: labos-setup-root ROOT_TREE FACTORY), to lay out the image's
# ROOT partition; in the initramfs it lays out a ROOT that Ignition formatted anew.
set -eu
R=${1:-/sysroot}
F=${2:-$R/usr/share/factory}
[ -d "$F/etc" ] || { echo "labos-setup-root: $F/etc missing: /usr is not a labos /usr" >&2; exit 1; }
made=
for d in etc var home root; do
    if [ -z "$(ls -A "$R/$d" 2>/dev/null)" ]; then
        mkdir -p "$R/$d"
        cp -a "$F/$d/." "$R/$d/"
        made="$made /$d"
    fi
done
for l in bin sbin lib lib64; do
    [ -e "$R/$l" ] || [ -L "$R/$l" ] || { ln -s "usr/$l" "$R/$l"; made="$made /$l"; }
done
for d in proc sys dev run tmp mnt opt srv media boot; do mkdir -p "$R/$d"; done
chmod 1777 "$R/tmp"
rm -f "$R/.labos-firstboot"
[ -z "$made" ] || echo "labos-setup-root: laid out$made from the factory copy"
