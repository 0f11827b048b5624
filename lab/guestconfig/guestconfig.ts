import { isMap, isScalar, isSeq, Scalar, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { CatalogEntry } from '../images/catalog.js';
import type { NodeIdentity } from './configdrive.js';
import { isIgnition } from './delivery.js';
import { editCloudConfig, mergeCloudConfigUnits, mergeIgnitionUnits, type GuestUnit } from './units.js';

/**
 * A node's rendered config as its image needs it. labos's cloud-init reads the lab's network and
 * key from the config drive (network-config / network_data.json, meta-data), so its config is
 * left as the scenario wrote it. coreos-cloudinit (Flatcar) and RancherOS do not read
 * network_data.json, so the lab writes the same facts the way they read them: networkd units
 * (Flatcar) or rancher.network.interfaces (RancherOS), matched by MAC, and its key in
 * ssh_authorized_keys. Then the units the lab adds (lab/guestunits.ts) are merged in.
 * What the config sets itself (its own *.network units, its own interfaces) is left alone.
 */
export function guestConfig(entry: CatalogEntry, config: string, id: NodeIdentity, units: GuestUnit[] = []): string {
  if (entry.agent === 'cloud-init') return config;
  if (isIgnition(config)) return mergeIgnitionUnits(withIgnitionNetwork(config, id), units);
  if (entry.agent === 'rancheros') return rancherIdentity(config, id);
  const ownNetwork = /name:\s*["']?[^"'\s]+\.network\b/.test(config);
  const edited = editCloudConfig(config, (doc) => {
    addKey(doc, id.sshPublicKey);
    underscoreKeys(doc);
  });
  return mergeCloudConfigUnits(edited, [...(ownNetwork ? [] : networkUnits(id)), ...units]);
}

/** The coreos: sections whose keys coreos-cloudinit turns into ETCD_* / FLEET_* / ... variables. */
const COREOS_SECTIONS = ['etcd', 'etcd2', 'fleet', 'flannel', 'locksmith', 'update', 'oem'];

/**
 * The article's configs write coreos.etcd2 keys with dashes (advertise-client-urls). CoreOS's
 * coreos-cloudinit turned "-" into "_" before reading them; Flatcar's (yaml.v3, since 3975.2.0)
 * no longer does and silently drops them: etcd then advertises localhost and discovery never
 * forms. So the lab writes them with "_" (so does a unit's drop-ins), which every release reads.
 */
function underscoreKeys(doc: Document): void {
  for (const section of COREOS_SECTIONS) {
    const m = doc.getIn(['coreos', section]);
    if (isMap(m)) for (const pair of (m as YAMLMap).items) if (isScalar(pair.key) && typeof pair.key.value === 'string') pair.key.value = pair.key.value.replace(/-/g, '_');
  }
  const units = doc.getIn(['coreos', 'units']);
  if (!isSeq(units)) return;
  for (const u of (units as YAMLSeq).items) {
    if (!isMap(u)) continue;
    for (const pair of (u as YAMLMap).items) if (isScalar(pair.key) && pair.key.value === 'drop-ins') pair.key.value = 'drop_ins';
  }
}

/** systemd-networkd units for the node's two NICs, by MAC: its lab address on eth0, DHCP on eth1. */
function networkUnits(id: NodeIdentity): GuestUnit[] {
  return [
    { name: '00-corelab-lan.network', content: `# Added by corelab: the node's address on the lab switch.\n[Match]\nMACAddress=${id.lanMac}\n\n[Network]\nAddress=${id.address}/${id.prefix}\n` },
    { name: '00-corelab-host.network', content: `# Added by corelab: QEMU user-mode NIC (SSH in, host services at 10.0.2.100).\n[Match]\nMACAddress=${id.hostMac}\n\n[Network]\nDHCP=yes\n` },
  ];
}

function rancherIdentity(config: string, id: NodeIdentity): string {
  return editCloudConfig(config, (doc) => {
    addKey(doc, id.sshPublicKey);
    if (doc.hasIn(['rancher', 'network', 'interfaces'])) return;
    // Keys quoted: RancherOS reads YAML 1.1, where a plain key full of colons is asking for trouble.
    const interfaces = doc.createNode({}) as YAMLMap;
    interfaces.set(quoted(`mac=${id.lanMac}`), doc.createNode({ address: `${id.address}/${id.prefix}`, dhcp: false }));
    interfaces.set(quoted(`mac=${id.hostMac}`), doc.createNode({ dhcp: true }));
    doc.setIn(['rancher', 'network', 'interfaces'], interfaces);
  });
}

function quoted(text: string): Scalar {
  const s = new Scalar(text);
  s.type = Scalar.QUOTE_DOUBLE;
  return s;
}

/** The lab's key in ssh_authorized_keys (the image's user gets it), beside the config's own. */
function addKey(doc: Document, key: string): void {
  const keys = doc.get('ssh_authorized_keys');
  if (!isSeq(keys)) {
    doc.set('ssh_authorized_keys', doc.createNode([key]));
    return;
  }
  if (!(keys as YAMLSeq).items.some((k) => isScalar(k) && k.value === key)) (keys as YAMLSeq).add(doc.createNode(key));
}

function withIgnitionNetwork(json: string, id: NodeIdentity): string {
  const ign = JSON.parse(json) as { ignition?: { version?: string }; storage?: { files?: Array<{ path: string }> } };
  const files = ((ign.storage ??= {}).files ??= []);
  if (files.some((f) => /^\/etc\/systemd\/network\//.test(f.path))) return json;
  const v3 = Number(ign.ignition?.version?.split('.')[0] ?? 3) >= 3;
  for (const u of networkUnits(id)) {
    files.push({ path: `/etc/systemd/network/${u.name}`, mode: 420, ...(v3 ? {} : { filesystem: 'root' }), contents: { source: `data:,${encodeURIComponent(u.content)}` } } as { path: string });
  }
  return JSON.stringify(ign, null, 2) + '\n';
}
