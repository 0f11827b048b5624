import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { LabError } from '../util/errors.js';

/** How a guest finds its config: an OpenStack config-2 drive or a NoCloud cidata drive. */
export type DriveKind = 'config-2' | 'cidata';

/** What the lab tells one node about itself, beside the user's own cloud-config. */
export interface NodeIdentity {
  instanceId: string;
  hostname: string;
  sshPublicKey: string;
  /** Static address on the lab's private segment (eth0), with its prefix length. */
  address: string;
  prefix: number;
  lanMac: string;
  hostMac: string;
}

/** The files of a config drive, by path inside the ISO. */
export function configDriveFiles(kind: DriveKind, userData: string, id: NodeIdentity): Record<string, string> {
  if (kind === 'cidata') {
    return {
      'user-data': userData,
      'meta-data': yaml11({ 'instance-id': id.instanceId, 'local-hostname': id.hostname, 'public-keys': [id.sshPublicKey] }),
      'network-config': yaml11({
        version: 2,
        ethernets: {
          lan: { match: { macaddress: id.lanMac }, 'set-name': 'eth0', addresses: [`${id.address}/${id.prefix}`] },
          host: { match: { macaddress: id.hostMac }, 'set-name': 'eth1', dhcp4: true },
        },
      }),
    };
  }
  const meta = { uuid: id.instanceId, hostname: id.hostname, name: id.hostname, public_keys: { lab: id.sshPublicKey } };
  const network = {
    links: [
      { id: 'lan', type: 'phy', ethernet_mac_address: id.lanMac, name: 'eth0' },
      { id: 'host', type: 'phy', ethernet_mac_address: id.hostMac, name: 'eth1' },
    ],
    networks: [
      { id: 'lan4', link: 'lan', type: 'ipv4', ip_address: id.address, netmask: prefixToNetmask(id.prefix) },
      { id: 'host4', link: 'host', type: 'ipv4_dhcp' },
    ],
    services: [],
  };
  return {
    'openstack/latest/user_data': userData,
    'openstack/latest/meta_data.json': JSON.stringify(meta, null, 2) + '\n',
    'openstack/latest/network_data.json': JSON.stringify(network, null, 2) + '\n',
  };
}

/**
 * YAML for cloud-init, which reads YAML 1.1: there an unquoted MAC such as 52:54:00:01:00:00 is a
 * base-60 integer. Every string is double-quoted so it stays a string.
 */
function yaml11(value: unknown): string {
  return stringify(value, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
}

/** Writes files into an ISO9660 image (Rock Ridge + Joliet) labelled for the guest to find. */
export async function buildIso(isoPath: string, label: string, files: Record<string, string | Buffer>): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'corelab-drive-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      const full = join(staging, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content, { mode: path.startsWith('bin/') ? 0o755 : 0o644 });
    }
    const r = await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-o', isoPath, '-V', label, '-J', '-r', staging], { reject: false });
    if (r.exitCode !== 0) throw new LabError(`xorriso could not build the config drive ${isoPath}: ${r.stderr}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export function prefixToNetmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}
