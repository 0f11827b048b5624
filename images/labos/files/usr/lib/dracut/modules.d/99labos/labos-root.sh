#!/bin/bash
# labos-root: a ROOT partition without a filesystem is a node's first boot: make it ext4
# (labelled ROOT, so Ignition configs can name /dev/disk/by-label/ROOT) and flag the boot.
set -eu
dev=/dev/disk/by-partlabel/ROOT
if [ -n "$(blkid -p -o value -s TYPE "$dev" 2>/dev/null)" ]; then
    echo "labos-root: ROOT has a filesystem, kept as it is"
    exit 0
fi
echo "labos-root: first boot, making ext4 on the blank ROOT"
mkfs.ext4 -q -L ROOT -E lazy_itable_init=1,lazy_journal_init=1 "$dev"
mkdir -p /run/labos
touch /run/labos/firstboot
udevadm trigger --action=change "$(readlink -f "$dev")"
udevadm settle
