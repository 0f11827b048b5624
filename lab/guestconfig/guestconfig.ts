/**
 * The guestconfig layer (lab/guestconfig/): a node's config as its image needs it. It owns one
 * editable document per format (cloudconfig.ts, ignition.ts) that every addition of the lab goes
 * through (this file: key, network, hostname, units from units.ts), the translation of Ignition
 * spec 2.x configs to 3.3.0 for an Ignition that reads 3.x only (ignition2to3.ts, with the 2.x keys
 * in ignition2schema.ts), how the result reaches the guest (delivery.ts: a config drive from
 * configdrive.ts, or fw_cfg) and the node-config lint (lint.ts, ignitionlint.ts; jsonpos.ts finds
 * a JSON key's line). It imports machine/, images/ and below, never checkpoints/ or cluster/.
 */
import type { CatalogEntry } from '../images/catalog.js';
import type { NodeIdentity } from './configdrive.js';
import { CloudConfig } from './cloudconfig.js';
import { IgnitionConfig, isIgnition } from './ignition.js';
import type { GuestUnit } from './units.js';

/**
 * A node's rendered config as its image needs it. labos's cloud-init reads the lab's network and
 * key from the config drive (network-config / network_data.json, meta-data), so its config is
 * left as the scenario wrote it. coreos-cloudinit (Flatcar) and RancherOS do not read
 * network_data.json, so the lab writes the same facts the way they read them: networkd units
 * (Flatcar) or rancher.network.interfaces (RancherOS), matched by MAC, and its key in
 * ssh_authorized_keys. An Ignition config gets the key for the image's user, the hostname when it
 * sets none, and the network files, in the document itself (never a second channel). Then the
 * units the lab adds (units.ts) are merged in. What the config sets itself is left alone. For an
 * image whose Ignition reads spec 3.x only (labos), a 2.x config is translated to 3.3.0 first and
 * the additions go into the translation.
 */
export function guestConfig(entry: CatalogEntry, config: string, id: NodeIdentity, units: GuestUnit[] = []): string {
  if (isIgnition(config)) return ignitionConfig(entry, config, id, units);
  if (entry.agent === 'cloud-init') return config;
  const doc = CloudConfig.parse(config);
  doc.addKey(id.sshPublicKey);
  if (entry.agent === 'rancheros') {
    if (!doc.has(['rancher', 'network', 'interfaces'])) {
      doc.setInterfaces([
        [id.lanMac, { address: `${id.address}/${id.prefix}`, dhcp: false }],
        [id.hostMac, { dhcp: true }],
      ]);
    }
    return doc.toString();
  }
  doc.underscoreKeys();
  const ownNetwork = /name:\s*["']?[^"'\s]+\.network\b/.test(config);
  doc.mergeUnits([...(ownNetwork ? [] : networkUnits(id)), ...units]);
  return doc.toString();
}

function ignitionConfig(entry: CatalogEntry, json: string, id: NodeIdentity, units: GuestUnit[]): string {
  const ign = IgnitionConfig.forImage(entry, json);
  if (!ign.hasNetwork()) for (const u of networkUnits(id)) ign.addFile(`/etc/systemd/network/${u.name}`, u.content);
  ign.mergeUnits(units);
  ign.addUserKey(entry.user, id.sshPublicKey);
  if (!ign.hasFile(/^\/etc\/hostname$/)) ign.addFile('/etc/hostname', id.hostname);
  return ign.toString();
}

/** systemd-networkd units for the node's two NICs, by MAC: its lab address on eth0, DHCP on eth1. */
function networkUnits(id: NodeIdentity): GuestUnit[] {
  return [
    { name: '00-corelab-lan.network', content: `# Added by corelab: the node's address on the lab switch.\n[Match]\nMACAddress=${id.lanMac}\n\n[Network]\nAddress=${id.address}/${id.prefix}\n` },
    { name: '00-corelab-host.network', content: `# Added by corelab: QEMU user-mode NIC (SSH in, host services at 10.0.2.100).\n[Match]\nMACAddress=${id.hostMac}\n\n[Network]\nDHCP=yes\n` },
  ];
}
