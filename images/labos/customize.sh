#!/bin/bash
# mmdebstrap --customize-hook for labos. $1 = root of the new system.
set -euo pipefail
R=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ch() { chroot "$R" "$@"; }

# Overlay files, owned by root.
tar -C "$HERE/files" --owner=0 --group=0 --numeric-owner -cf - . | tar -C "$R" -xf -
chmod 0440 "$R/etc/sudoers.d/labos"
chmod 0755 "$R"/usr/lib/dracut/modules.d/99labos/*.sh "$R/usr/bin/coreos-cloudinit"

# Users: core (cloud-init default user) and rancher; key-only, sudo via sudoers.d.
for u in core rancher; do
  ch useradd --create-home --shell /bin/bash --groups docker,sudo --comment "$u" "$u"
  ch passwd --lock "$u" >/dev/null
done

# Units: docker only by socket; etcd2 on demand; networkd for cloud-init.
ch systemctl -q disable docker.service containerd.service etcd.service 2>/dev/null || true
ch systemctl -q mask etcd.service systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-networkd-wait-online.service \
  cloud-init-hotplugd.socket cloud-config.service
# Early-boot units a lab node has no use for: each is a process start (a few hundred ms under TCG)
# competing with cloud-init for the CPU. No binfmt, hugepages, debugfs, tracefs, configfs, FUSE or
# POSIX mqueue mounts (containers mount their own mqueue); nothing in modules-load.d; no kernel
# command line network config (ip=); users exist from the build (sysusers); no random seed file;
# no fstab to remount from (the initramfs mounted / read-write); no getty on the VGA console; and no
# unpacking the initramfs again at shutdown (dracut-shutdown), which a power-button shutdown waits for.
ch systemctl -q mask systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
  dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
  sys-fs-fuse-connections.mount modprobe@fuse.service modprobe@configfs.service systemd-modules-load.service \
  systemd-network-generator.service systemd-sysusers.service systemd-random-seed.service \
  systemd-remount-fs.service getty@tty1.service dracut-shutdown.service
# Generators run at boot and at every daemon-reload; drop the ones a lab VM never needs.
mkdir -p "$R/etc/systemd/system-generators"
for g in systemd-gpt-auto-generator systemd-cryptsetup-generator systemd-integritysetup-generator \
         systemd-veritysetup-generator systemd-hibernate-resume-generator systemd-system-update-generator \
         systemd-sysv-generator systemd-rc-local-generator systemd-run-generator; do
  ln -sf /dev/null "$R/etc/systemd/system-generators/$g"
done
# SSH: socket-activated (sshd.socket, sshd@.service), as on Flatcar; Debian's ssh.service is off.
ch systemctl -q disable ssh.service 2>/dev/null || true
ch systemctl -q enable docker.socket systemd-networkd.service sshd.socket usr-share-oem.mount corelab-artifacts.service
mkdir -p "$R/var/lib/oem" "$R/usr/share/oem"
# SysV scripts that a native unit of the same name shadows (docker, ssh, cloud-init's, ...): systemd
# never runs them (and the sysv generator is off), but while /etc/init.d/NAME exists, `systemctl
# enable/disable NAME` also runs update-rc.d, Perl: measured in a node, `systemctl enable
# docker.service` took 7.3 s, 4.9 s of it with --no-reload. Flatcar has no SysV scripts either.
for s in "$R"/etc/init.d/*; do
  b=${s##*/}
  [ -e "$R/usr/lib/systemd/system/$b.service" ] || [ -L "$R/usr/lib/systemd/system/$b.service" ] || continue
  ch update-rc.d -f "$b" remove >/dev/null 2>&1 || true
  rm -f "$s"
done

# Let cloud-init's schema accept "coreos" in module lists (else a WARNING each boot).
ch python3 - <<'PY'
import json
p = "/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json"
s = json.load(open(p))
enum = s["$defs"]["all_modules"]["enum"]
for m in ("coreos", "cc_coreos"):
    if m not in enum:
        enum.append(m)
json.dump(s, open(p, "w"), indent=2)
PY
ch python3 -m py_compile /usr/lib/python3/dist-packages/cloudinit/config/cc_coreos.py

# fstab: the initramfs mounts / (ROOT) and /usr (USR-A, read-only) from the kernel command line.
echo '# labos: / and /usr are mounted by the initramfs (root=, mount.usr= on the kernel command line)' > "$R/etc/fstab"
: > "$R/etc/resolv.conf"

# Per-VM identity: no host keys, no machine-id, no hostname.
rm -f "$R"/etc/ssh/ssh_host_*
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
echo localhost > "$R/etc/hostname"

# Python byte-code for everything in /usr: it is read-only on a node, nothing can be cached later.
ch python3 -m compileall -q /usr/lib/python3/dist-packages >/dev/null 2>&1 || true

# The systemd initramfs with Ignition and the labos module (files/etc/dracut.conf.d/labos.conf),
# for nodes with an Ignition config.
rm -f "$R/etc/dracut.conf.d/00-labos-build.conf"
for k in "$R"/lib/modules/*; do
  ch dracut -q -f "/boot/initrd.img-${k##*/}" "${k##*/}"
done

# The initramfs of every other node: busybox, the six virtio modules and initrd/init (no udev,
# no systemd, no Ignition), as /boot/initrd-plain.img-KVER.
KVER=$(ls "$R/lib/modules" | sort -V | tail -1)
I="$R/tmp/labos-initrd"
rm -rf "$I"; mkdir -p "$I/bin" "$I/dev" "$I/proc" "$I/sys" "$I/root" "$I/lib/modules"
cp "$R/bin/busybox" "$I/bin/busybox"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
  f=$(find "$R/lib/modules/$KVER/kernel/drivers" -name "$m.ko*" | head -1)
  [ -n "$f" ] || { echo "customize.sh: module $m.ko not found for $KVER" >&2; exit 1; }
  case "$f" in
    *.xz) xz -dc "$f" > "$I/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$I/lib/modules/$m.ko" ;;
    *) cp "$f" "$I/lib/modules/$m.ko" ;;
  esac
done
install -m 0755 "$HERE/initrd/init" "$I/init"
ch sh -c 'cd /tmp/labos-initrd && find . | cpio -o -H newc --quiet' > "$R/boot/initrd-plain.img-$KVER"
rm -rf "$I"

# Offline image: no apt sources (mmdebstrap itself empties the apt lists and
# caches afterwards), no changelogs, logs or cloud-init state.
rm -rf "$R"/etc/apt/sources.list "$R"/etc/apt/sources.list.d/* "$R"/usr/share/doc/*/changelog* \
  "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R"/var/log/*.log "$R"/var/log/apt/* \
  "$R"/var/lib/cloud/*
