#!/bin/bash
# labos: setfiles for Ignition in the initramfs. Debian builds Ignition with SELinux relabelling
# on (Flatcar builds it off), so its files stage always ends by running
# `setfiles -vF0 -r /sysroot FILE_CONTEXTS -f -` with the paths it wrote on stdin. labos has no
# SELinux (no policy, /etc/selinux/config says SELINUX=disabled), so there is nothing to label:
# read the paths, say how many, succeed.
n=$(tr -cd '\0' | wc -c)
echo "labos: SELinux is disabled; ${n} path(s) from Ignition need no label"
