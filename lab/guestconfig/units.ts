import type { CatalogEntry } from '../images/catalog.js';
import type { ResolvedArtifact } from '../images/artifacts.js';
import { LabError } from '../util/errors.js';

/**
 * systemd units the lab adds to images that lack them. labos has etcd2.service, fleet.service and
 * fleet.socket built in (images/labos/files). Flatcar has neither etcd2 nor fleet, though its
 * coreos-cloudinit still turns coreos.etcd2 / coreos.fleet into 20-cloudinit.conf drop-ins of
 * ETCD_* / FLEET_* variables: with these units (binaries from the lab's artifacts drive) the
 * article's config works there too.
 */
export interface GuestUnit {
  name: string;
  content: string;
  /** Started by the config agent (coreos-cloudinit's command: start). */
  command?: 'start';
  enable?: boolean;
}

const ARTIFACTS_UNIT = 'corelab-artifacts.service';

/** The units' names and the artifacts they need, by what a node config uses. */
const NEEDS: Array<{ artifact: string; uses: RegExp }> = [
  // coreos.etcd2 (a drop-in is written for etcd2.service), or a unit named etcd2.service.
  { artifact: 'etcd', uses: /^\s+etcd2:|["']?name["']?\s*:\s*["']?etcd2\.service\b/m },
  { artifact: 'fleet', uses: /^\s+fleet:|["']?name["']?\s*:\s*["']?fleet\.(service|socket)\b/m },
];

/** Whether the image has etcd2/fleet units of its own (labos does; no downloaded image does). */
function hasClusterUnits(entry: CatalogEntry): boolean {
  return !!entry.build;
}

/**
 * The artifacts the nodes' configs need on this image, beyond what the scenario requires: etcd
 * when a config uses etcd2, fleet when it uses fleet, on an image that has no units for them.
 */
export function impliedArtifacts(entry: CatalogEntry, configs: string[]): string[] {
  if (hasClusterUnits(entry)) return [];
  return NEEDS.filter((n) => configs.some((c) => n.uses.test(c))).map((n) => n.artifact);
}

/**
 * The units to add for this image given the artifacts the lab hands its nodes, and one line per
 * unit saying what and why (the lab logs them). None for labos.
 */
export function labUnits(entry: CatalogEntry, artifacts: ResolvedArtifact[]): { units: GuestUnit[]; notes: string[] } {
  if (hasClusterUnits(entry)) return { units: [], notes: [] };
  const etcd = artifacts.find((a) => a.spec.name === 'etcd');
  const fleet = artifacts.find((a) => a.spec.name === 'fleet');
  if (!etcd && !fleet) return { units: [], notes: [] };
  if (entry.agent !== 'coreos-cloudinit') {
    throw new LabError(`${entry.name} has no etcd2 or fleet, and the lab cannot add them there: ${entry.agent === 'rancheros' ? 'RancherOS runs its services as system-docker containers, not systemd units' : `its ${entry.agent} does not take coreos.units`}`, {
      fix: 'run the etcd/fleet scenarios on labos or a Flatcar image',
    });
  }
  const units: GuestUnit[] = [];
  const notes: string[] = [];
  const from = (a: ResolvedArtifact) => `${a.spec.name} ${a.version ?? a.spec.version} from artifact ${a.source}`;
  units.push({ name: ARTIFACTS_UNIT, content: artifactsUnit(), command: 'start', enable: true });
  notes.push(`adding ${ARTIFACTS_UNIT} to every node's config: it installs bin/* of the lab's "artifacts" drive into /opt/bin`);
  if (etcd) {
    units.push({ name: 'etcd2.service', content: etcd2Unit(etcd.version ?? etcd.spec.version) });
    notes.push(`adding etcd2.service (${from(etcd)}, run with the v2 API) because ${entry.name} has none`);
  }
  if (fleet) {
    units.push({ name: 'fleet.socket', content: fleetSocket() }, { name: 'fleet.service', content: fleetService() });
    notes.push(`adding fleet.service and fleet.socket (${from(fleet)}) because ${entry.name} has none`);
  }
  return { units, notes };
}

function artifactsUnit(): string {
  return `# Added by corelab (like labos's corelab-artifacts.service): installs bin/* of the lab's
# read-only drive labelled "artifacts" into /opt/bin, before the units that use them.
[Unit]
Description=Install lab artifacts from the drive labelled "artifacts"
DefaultDependencies=no
Requires=dev-disk-by\\x2dlabel-artifacts.device
After=dev-disk-by\\x2dlabel-artifacts.device local-fs.target
Before=etcd2.service fleet.socket fleet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'set -eu; mnt=/run/corelab-artifacts; mkdir -p "$$mnt" /opt/bin; mount -o ro /dev/disk/by-label/artifacts "$$mnt"; for f in "$$mnt"/bin/*; do install -m 0755 "$$f" /opt/bin/; done; umount "$$mnt"'

[Install]
WantedBy=multi-user.target
`;
}

function etcd2Unit(version: string): string {
  return `# Added by corelab: this image has no etcd2.service. Like CoreOS's, and labos's: etcd ${version}
# (the lab's etcd artifact, in /opt/bin) with the v2 API. ETCD_* variables come from drop-ins
# such as the 20-cloudinit.conf coreos-cloudinit writes from coreos.etcd2.
[Unit]
Description=etcd2 (etcd ${version} with the v2 API, added by corelab)
Conflicts=etcd.service etcd-member.service
Requires=${ARTIFACTS_UNIT}
After=network-online.target ${ARTIFACTS_UNIT}
Wants=network-online.target

[Service]
Type=notify
Environment=ETCD_DATA_DIR=/var/lib/etcd2
Environment=ETCD_NAME=%m
Environment=ETCD_ENABLE_V2=true
ExecStart=/opt/bin/etcd
Restart=always
RestartSec=10s
TimeoutStartSec=0
LimitNOFILE=40000

[Install]
WantedBy=multi-user.target
`;
}

function fleetService(): string {
  return `# Added by corelab: this image has no fleet. CoreOS's fleet.service, with fleetd from the lab's
# fleet artifact (/opt/bin); FLEET_* variables from coreos-cloudinit's 20-cloudinit.conf drop-in.
[Unit]
Description=fleet daemon
Requires=${ARTIFACTS_UNIT}
After=etcd2.service fleet.socket ${ARTIFACTS_UNIT}
Wants=fleet.socket

[Service]
ExecStart=/opt/bin/fleetd
Restart=always
RestartSec=10s

[Install]
WantedBy=multi-user.target
`;
}

function fleetSocket(): string {
  return `# Added by corelab: fleet's API socket, as on CoreOS.
[Unit]
Description=Fleet API Socket
PartOf=fleet.service

[Socket]
ListenStream=/var/run/fleet.sock
`;
}
