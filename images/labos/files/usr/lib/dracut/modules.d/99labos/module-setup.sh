#!/bin/bash
# labos dracut module: the Flatcar-like first boot around Debian's Ignition (30ignition).
#  - labos-root.service: flags the node's first boot as Ignition's (/run/labos/firstboot) when the
#    image's ROOT still has its /.labos-firstboot, or is blank (then made ext4 labelled ROOT).
#  - 10-labos.conf: the Ignition stages run only on that first boot (ignition.firstboot is on the
#    kernel command line of every boot, since QEMU boots the same command line every time).
#  - labos-setup-root.service: lays out an empty root around the read-only /usr (the factory
#    /etc, /var, /home and /root, the merged-/usr links), before Ignition's files stage.
#  - setfiles: a no-op for Ignition's SELinux relabelling (labos has no SELinux; labos-setfiles.sh).

check() { return 0; }

depends() { echo systemd ignition; }

install() {
    inst_multiple blkid mkfs.ext4 mount umount cp ln mkdir chmod touch rm udevadm journalctl grep sed tr wc
    inst_script "$moddir/labos-root.sh" /usr/bin/labos-root
    inst_script "$moddir/labos-setup-root.sh" /usr/bin/labos-setup-root
    inst_script "$moddir/labos-setfiles.sh" /usr/sbin/setfiles
    local u
    for u in labos-root.service labos-setup-root.service; do
        inst_simple "$moddir/$u" "$systemdsystemunitdir/$u"
        mkdir -p "$initdir/$systemdsystemunitdir/initrd.target.wants"
        ln_r "$systemdsystemunitdir/$u" "$systemdsystemunitdir/initrd.target.wants/$u"
    done
    for u in fetch-offline fetch kargs disks mount files; do
        inst_simple "$moddir/10-labos.conf" "$systemdsystemunitdir/ignition-$u.service.d/10-labos.conf"
    done
}
