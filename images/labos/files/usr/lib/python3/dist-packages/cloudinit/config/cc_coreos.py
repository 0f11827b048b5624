# labos: cloud-init module for the CoreOS-style "coreos:" cloud-config key.
"""CoreOS: apply the coreos-cloudinit ``coreos:`` key (etcd2, fleet, units)."""

import os
from logging import Logger

from cloudinit import subp, util
from cloudinit.cloud import Cloud
from cloudinit.config import Config
from cloudinit.config.schema import MetaSchema
from cloudinit.distros import ALL_DISTROS
from cloudinit.settings import PER_ALWAYS

meta: MetaSchema = {
    "id": "cc_coreos",
    "name": "CoreOS",
    "title": "CoreOS-style coreos: key (etcd2, fleet, flannel, locksmith, units)",
    "description": "Writes ETCD_*/FLEET_* drop-ins and systemd units as coreos-cloudinit did.",
    "distros": [ALL_DISTROS],
    # Drop-ins and runtime units live in /run: redo them on every boot.
    "frequency": PER_ALWAYS,
    "examples": [],
    "activate_by_schema_keys": ["coreos"],
}
__doc__ = meta["description"]

# coreos.<key> -> (unit that gets 20-cloudinit.conf, environment prefix)
ENV_UNITS = {
    "etcd2": ("etcd2.service", "ETCD"),
    "fleet": ("fleet.service", "FLEET"),
    "flannel": ("flanneld.service", "FLANNELD"),
    "locksmith": ("locksmithd.service", "LOCKSMITHD"),
}
NET_SUFFIXES = (".network", ".netdev", ".link")
COMMANDS = ("start", "stop", "restart", "reload", "try-restart",
            "reload-or-restart", "reload-or-try-restart")


def _value(v) -> str:
    if isinstance(v, bool):
        v = "true" if v else "false"
    return str(v).replace("\\", "\\\\").replace('"', '\\"')


def env_dropin(unit: str, prefix: str, opts: dict) -> str:
    lines = ["[Service]"]
    for key, val in opts.items():
        name = prefix + "_" + str(key).upper().replace("-", "_")
        lines.append('Environment="%s=%s"' % (name, _value(val)))
    return "\n".join(lines) + "\n"


def systemctl(log: Logger, *args) -> bool:
    try:
        subp.subp(["systemctl"] + list(args), capture=True)
        return True
    except subp.ProcessExecutionError as e:
        log.warning("coreos: systemctl %s failed: %s", " ".join(args), e)
        return False


def unit_states(units: list) -> dict:
    """{unit: (LoadState, NeedDaemonReload, DropInPaths, FragmentPath)}; loading a unit reads new files."""
    if not units:
        return {}
    out, _ = subp.subp(["systemctl", "show", "-p", "Id,LoadState,NeedDaemonReload,DropInPaths,FragmentPath"]
                       + units, capture=True, rcs=[0, 1])
    states = {}
    for unit, block in zip(units, out.strip().split("\n\n")):
        props = dict(l.split("=", 1) for l in block.splitlines() if "=" in l)
        states[unit] = (props.get("LoadState", ""), props.get("NeedDaemonReload") == "yes",
                        props.get("DropInPaths", "").split(), props.get("FragmentPath", ""))
    return states


def handle(name: str, cfg: Config, cloud: Cloud, log: Logger, args: list) -> None:
    coreos = cfg.get("coreos")
    if not isinstance(coreos, dict):
        log.debug("coreos: no coreos: key, nothing to do")
        return

    touched, created = set(), set()  # units with new drop-ins / new unit files
    written = {}  # unit -> the unit file written for it
    dropins = {}  # unit -> drop-in files written for it
    for key, (unit, prefix) in ENV_UNITS.items():
        opts = coreos.get(key)
        if opts:
            touched.add(unit)
            path = "/run/systemd/system/%s.d/20-cloudinit.conf" % unit
            util.write_file(path, env_dropin(unit, prefix, opts), mode=0o644)
            dropins.setdefault(unit, []).append(path)
            log.info("coreos: wrote %s", path)
    for key in coreos:
        if key not in ENV_UNITS and key != "units":
            log.debug("coreos: ignoring unsupported key coreos.%s", key)

    units = coreos.get("units") or []
    restart_networkd = False
    for u in units:
        uname = u.get("name")
        if not uname:
            log.warning("coreos: unit without a name: %s", u)
            continue
        is_net = uname.endswith(NET_SUFFIXES)
        root = "/run" if u.get("runtime") else "/etc"
        base = os.path.join(root, "systemd", "network" if is_net else "system")
        if "content" in u:
            util.write_file(os.path.join(base, uname), u["content"], mode=0o644)
            created.add(uname)
            written[uname] = os.path.join(base, uname)
            log.info("coreos: wrote %s/%s", base, uname)
            restart_networkd |= is_net
        for d in u.get("drop-ins") or u.get("drop_ins") or []:
            path = os.path.join(base, uname + ".d", d["name"])
            util.write_file(path, d.get("content", ""), mode=0o644)
            touched.add(uname)
            dropins.setdefault(uname, []).append(path)
            log.info("coreos: wrote %s", path)
            restart_networkd |= is_net

    # daemon-reload costs seconds under TCG: only when a unit we touched was
    # already loaded from older files (a unit loaded now sees the new files).
    # NeedDaemonReload misses a drop-in dir that did not exist when the unit was
    # loaded (e.g. etcd2 loaded early as another unit's After=), so compare the
    # drop-ins systemd knows with the ones written. A unit file written where it overrides the one
    # systemd loaded (e.g. /run/systemd/system/sshd.socket over /usr/lib's) is not "NeedDaemonReload"
    # either: compare the fragment systemd uses with the file written.
    names = sorted(n for n in set(u.get("name") or "" for u in units) | touched | created
                   if n and not n.endswith(NET_SUFFIXES))
    states = unit_states(names)
    if any((load == "loaded" and (need or not set(dropins.get(n, [])) <= set(paths)
                                  or (n in written and frag != written[n])))
           or (load != "loaded" and n in created)
           for n, (load, need, paths, frag) in states.items()):
        systemctl(log, "daemon-reload")
        states = unit_states(names)
    if restart_networkd:
        systemctl(log, "--no-block", "restart", "systemd-networkd.service")

    for u in units:
        uname = u.get("name")
        if not uname or uname.endswith(NET_SUFFIXES):
            continue
        runtime = ["--runtime"] if u.get("runtime") else []
        if u.get("mask"):
            systemctl(log, "mask", *runtime, uname)
        if states.get(uname, ("",))[0] in ("not-found", ""):
            log.warning("coreos: unit %s not found, skipping it", uname)
            continue
        if u.get("enable"):
            # --no-reload: enabling only adds the [Install] links, which the next boot reads; this
            # boot starts the unit by its command. The implicit daemon-reload cost ~2.5 s (TCG).
            systemctl(log, "enable", "--no-reload", *runtime, uname)
        cmd = u.get("command")
        if cmd in COMMANDS:
            systemctl(log, "--no-block", cmd, uname)
            log.info("coreos: systemctl --no-block %s %s", cmd, uname)
        elif cmd:
            log.warning("coreos: unit %s: unknown command %r", uname, cmd)
