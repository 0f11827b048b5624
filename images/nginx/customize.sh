#!/bin/bash
# mmdebstrap customize hook for the nginx image: $1 is the root fs being built.
set -euo pipefail
ROOT=${1:?usage: customize.sh ROOTFS}

# Logs go to the container's stdout/stderr (docker logs / docker service logs), as in Docker Hub's nginx.
mkdir -p "$ROOT/var/log/nginx"
ln -sfn /dev/stdout "$ROOT/var/log/nginx/access.log"
ln -sfn /dev/stderr "$ROOT/var/log/nginx/error.log"

# The configuration and the Debian default page must be in place, and nginx must accept them.
test -s "$ROOT/var/www/html/index.nginx-debian.html"
# (through a pipe: the error.log link to /dev/stderr cannot be opened when stderr is a socket,
# as it is under node's spawn; in a container it is a pipe or a file)
chroot "$ROOT" nginx -t 2>&1 | cat

# Nothing of the build (apt state, caches, logs of the package scripts) goes into the layer.
rm -rf "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/lib/dpkg/*-old "$ROOT"/var/log/dpkg.log "$ROOT"/var/log/apt/* "$ROOT"/var/log/alternatives.log
