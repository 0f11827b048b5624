#!/bin/bash
# labos-root: is this the node's first boot? The image's ROOT holds the factory layout and the
# flag /.labos-firstboot (as Flatcar flags its first boot with a file), which labos-setup-root
# removes; then the Ignition stages run (10-labos.conf). A ROOT without a filesystem (a disk made
# blank on purpose) is a first boot too: it gets an ext4 labelled ROOT, laid out later.
set -eu
dev=/dev/disk/by-partlabel/ROOT
mkdir -p /run/labos
if [ -z "$(blkid -p -o value -s TYPE "$dev" 2>/dev/null)" ]; then
    echo "labos-root: first boot on a blank ROOT, making ext4"
    mkfs.ext4 -q -L ROOT -E lazy_itable_init=1,lazy_journal_init=1 "$dev"
    touch /run/labos/firstboot
    udevadm trigger --action=change "$(readlink -f "$dev")"
    udevadm settle
    exit 0
fi
mkdir -p /run/labos/probe
mount -o ro "$dev" /run/labos/probe
if [ -e /run/labos/probe/.labos-firstboot ]; then
    echo "labos-root: first boot, Ignition runs"
    touch /run/labos/firstboot
else
    echo "labos-root: ROOT was booted before, kept as it is"
fi
umount /run/labos/probe
