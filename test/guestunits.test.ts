import test from 'ava';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadCatalog } from '../lab/images/catalog.js';
import { ARTIFACTS, type ResolvedArtifact } from '../lab/images/artifacts.js';
import { impliedArtifacts, labUnits, type GuestUnit } from '../lab/guestconfig/units.js';
import { CloudConfig } from '../lab/guestconfig/cloudconfig.js';
import { guestConfig } from '../lab/guestconfig/guestconfig.js';
import { deliveryFor } from '../lab/guestconfig/delivery.js';
import { buildIso, type NodeIdentity } from '../lab/guestconfig/configdrive.js';
import { render } from '../lab/util/template.js';
import { tempTree } from './helpers/files.js';

const catalog = loadCatalog();
const mergeCloudConfigUnits = (text: string, units: GuestUnit[]) => {
  const doc = CloudConfig.parse(text);
  doc.mergeUnits(units);
  return doc.toString();
};
const flatcar = catalog.get('flatcar-stable')!;
const rancheros = catalog.get('rancheros-1.5.8')!;
const labos = catalog.get('labos')!;
const id: NodeIdentity = { instanceId: 'i-1', hostname: 'node00', sshPublicKey: 'ssh-ed25519 AAAA lab', address: '192.168.0.10', prefix: 24, lanMac: '52:54:00:07:00:00', hostMac: '52:54:00:07:01:00' };
const etcd: ResolvedArtifact = { spec: ARTIFACTS.etcd, binaries: { etcd: '/c/etcd', etcdctl: '/c/etcdctl' }, source: '/usr/bin/etcd, /usr/bin/etcdctl', sha256: 'x', version: '3.4.23' };
const fleet: ResolvedArtifact = { spec: ARTIFACTS.fleet, binaries: { fleetd: '/c/fleetd', fleetctl: '/c/fleetctl' }, source: '/c/fleet', sha256: 'y' };

/** The shipped Flatcar variant's node config, rendered as the lab renders it for node00. */
const FLATCAR_CONFIG = render(readFileSync('scenarios/etcd-discovery/flatcar-cloud-config.yaml', 'utf8'), {
  'node.name': 'node00', 'node.address': '192.168.0.10', 'discovery.url': 'http://10.0.2.100:2379/v2/keys/_etcd/registry/abc',
});

type Unit = { name: string; content?: string; command?: string; enable?: boolean };
const unitsOf = (text: string): Unit[] => parse(text).coreos.units;

test('an image without etcd2 needs the etcd artifact when a config uses coreos.etcd2; labos never does', (t) => {
  t.deepEqual(impliedArtifacts(flatcar, [FLATCAR_CONFIG]), ['etcd']);
  t.deepEqual(impliedArtifacts(flatcar, ['#cloud-config\ncoreos:\n  fleet:\n    metadata: a=b\n']), ['fleet']);
  t.deepEqual(impliedArtifacts(flatcar, ['{"ignition":{"version":"3.3.0"},"systemd":{"units":[{"name":"etcd2.service","enabled":true}]}}']), ['etcd']);
  t.deepEqual(impliedArtifacts(flatcar, ['#cloud-config\nhostname: x\n# etcd2: is only mentioned here\n']), []);
  t.deepEqual(impliedArtifacts(labos, [readFileSync('scenarios/etcd-discovery/cloud-config.yaml', 'utf8')]), []);
  t.deepEqual(labUnits(labos, [etcd, fleet]), { units: [], notes: [] });
});

test('Flatcar: coreos.fleet keys and a unit\'s drop-ins are written with "_" too; labos configs are left as written', (t) => {
  const text = '#cloud-config\ncoreos:\n  fleet:\n    public-ip: 192.168.0.10\n    metadata: name=x\n  units:\n    - name: etcd2.service\n      drop-ins:\n        - name: 10-x.conf\n          content: "[Service]"\n';
  const doc = parse(guestConfig(flatcar, text, id, []));
  t.deepEqual(doc.coreos.fleet, { public_ip: '192.168.0.10', metadata: 'name=x' });
  const unit = doc.coreos.units.find((u: Unit) => u.name === 'etcd2.service');
  t.deepEqual(unit.drop_ins, [{ name: '10-x.conf', content: '[Service]' }]);
  t.false('drop-ins' in unit);
  t.is(guestConfig(catalog.get('labos')!, text, id, []), text);
});

test('Flatcar: etcd2.service is merged into the config\'s own etcd2.service entry, the lab says so, and the config drive carries it', async (t) => {
  const { units, notes } = labUnits(flatcar, [etcd]);
  t.deepEqual(notes, [
    'adding corelab-artifacts.service to every node\'s config: it installs bin/* of the lab\'s "artifacts" drive into /opt/bin',
    'adding etcd2.service (etcd 3.4.23 from artifact /usr/bin/etcd, /usr/bin/etcdctl, run with the v2 API) because flatcar-stable has none',
  ]);
  const config = guestConfig(flatcar, FLATCAR_CONFIG, id, units);
  const d = deliveryFor(flatcar, config, id, 'cidata');
  if (d.kind !== 'drive') return t.fail('a cloud-config goes on a drive');
  t.is(d.drive, 'config-2', 'Flatcar reads config-2, whatever the scenario default');
  const out = tempTree({});
  t.teardown(out.remove);
  const iso = join(out.dir, 'config-2.iso');
  await buildIso(iso, d.label, d.files);
  await execa('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/openstack/latest/user_data', join(out.dir, 'user_data')]);
  const text = readFileSync(join(out.dir, 'user_data'), 'utf8');
  t.true(text.startsWith('#cloud-config\n'));
  const doc = parse(text);
  t.is(doc.hostname, 'node00');
  t.is(doc.coreos.etcd2.discovery, 'http://10.0.2.100:2379/v2/keys/_etcd/registry/abc', 'coreos.etcd2 is kept for coreos-cloudinit\'s drop-in');
  // Flatcar's coreos-cloudinit (yaml.v3, >= 3975.2.0) drops dashed keys; every release reads "_".
  t.deepEqual(Object.keys(doc.coreos.etcd2).sort(), ['advertise_client_urls', 'discovery', 'initial_advertise_peer_urls', 'listen_client_urls', 'listen_peer_urls']);
  t.is(doc.coreos.etcd2.advertise_client_urls, 'http://192.168.0.10:2379,http://192.168.0.10:4001');
  t.deepEqual(doc.ssh_authorized_keys, ['ssh-ed25519 AAAA lab']);
  const list: Unit[] = doc.coreos.units;
  t.deepEqual(list.map((u) => u.name), ['00-corelab-lan.network', '00-corelab-host.network', 'corelab-artifacts.service', 'etcd2.service']);
  const etcd2 = list.filter((u) => u.name === 'etcd2.service');
  t.is(etcd2.length, 1, 'merged, not duplicated');
  t.is(etcd2[0].command, 'start', 'the config\'s command is kept');
  t.regex(etcd2[0].content!, /^ExecStart=\/opt\/bin\/etcd$/m);
  t.regex(etcd2[0].content!, /^Environment=ETCD_ENABLE_V2=true$/m);
  t.regex(etcd2[0].content!, /^Requires=corelab-artifacts\.service$/m);
  t.regex(etcd2[0].content!, /etcd 3\.4\.23/);
  const installer = list[2];
  t.like(installer, { command: 'start', enable: true });
  t.regex(installer.content!, /mount -o ro \/dev\/disk\/by-label\/artifacts/);
  t.regex(installer.content!, /^Requires=dev-disk-by\\x2dlabel-artifacts\.device$/m);
  t.regex(list[0].content!, /\[Match\]\nMACAddress=52:54:00:07:00:00\n\n\[Network\]\nAddress=192\.168\.0\.10\/24\n/);
  t.regex(list[1].content!, /MACAddress=52:54:00:07:01:00\n\n\[Network\]\nDHCP=yes/);
});

test('a unit the config already gives content keeps its own; fleet adds fleet.socket and fleet.service', (t) => {
  const own = '#cloud-config\ncoreos:\n  units:\n    - name: etcd2.service\n      command: start\n      content: |\n        [Service]\n        ExecStart=/my/etcd\n    - name: fleet.service\n      command: start\n';
  const merged = unitsOf(mergeCloudConfigUnits(own, labUnits(flatcar, [etcd, fleet]).units));
  t.deepEqual(merged.map((u) => u.name), ['corelab-artifacts.service', 'fleet.socket', 'etcd2.service', 'fleet.service']);
  t.is(merged[2].content, '[Service]\nExecStart=/my/etcd\n');
  t.regex(merged[3].content!, /^ExecStart=\/opt\/bin\/fleetd$/m);
  t.is(merged[3].command, 'start');
  t.regex(merged[1].content!, /^ListenStream=\/var\/run\/fleet\.sock$/m);
  // Merging twice changes nothing more.
  const twice = mergeCloudConfigUnits(mergeCloudConfigUnits(own, labUnits(flatcar, [etcd]).units), labUnits(flatcar, [etcd]).units);
  t.is(unitsOf(twice).filter((u) => u.name === 'etcd2.service').length, 1);
  t.is(unitsOf(twice).filter((u) => u.name === 'corelab-artifacts.service').length, 1);
});

test('a config with its own network units keeps them and gets none from the lab', (t) => {
  const text = '#cloud-config\ncoreos:\n  units:\n    - name: static.network\n      content: |\n        [Match]\n        Name=eth0\n';
  t.deepEqual(unitsOf(guestConfig(flatcar, text, id)).map((u) => u.name), ['static.network']);
});

test('Flatcar Ignition: units go into systemd.units (merged by name), the network into storage.files', (t) => {
  const ign = JSON.stringify({ ignition: { version: '3.3.0' }, systemd: { units: [{ name: 'etcd2.service', enabled: true }] } });
  const out = JSON.parse(guestConfig(flatcar, ign, id, labUnits(flatcar, [etcd]).units));
  t.deepEqual(out.systemd.units.map((u: { name: string }) => u.name), ['etcd2.service', 'corelab-artifacts.service']);
  t.regex(out.systemd.units[0].contents, /ExecStart=\/opt\/bin\/etcd/);
  t.true(out.systemd.units[0].enabled);
  t.true(out.systemd.units[1].enabled);
  t.deepEqual(out.storage.files.map((f: { path: string }) => f.path), ['/etc/systemd/network/00-corelab-lan.network', '/etc/systemd/network/00-corelab-host.network', '/etc/hostname']);
  t.regex(decodeURIComponent(out.storage.files[0].contents.source), /Address=192\.168\.0\.10\/24/);
  // The lab key and hostname are in the same document, which goes by fw_cfg as it is.
  t.deepEqual(out.passwd.users, [{ name: 'core', sshAuthorizedKeys: [id.sshPublicKey] }]);
  const d = deliveryFor(flatcar, JSON.stringify(out), id);
  t.is(d.kind, 'fw_cfg');
  if (d.kind === 'fw_cfg') t.deepEqual(JSON.parse(d.content), out);
});

test('RancherOS: the lab key for rancher and the lab address by MAC under rancher.network; no systemd units', async (t) => {
  const text = readFileSync('scenarios/swarm-drain-replicate/rancheros-cloud-config.yaml', 'utf8');
  const rendered = render(text, { 'node.name': 'manager0', 'registry.url': 'http://10.0.2.100:5000', 'registry.host': '10.0.2.100:5000' });
  const text2 = guestConfig(rancheros, rendered, id);
  t.regex(text2, /^ {6}"mac=52:54:00:07:00:00":$/m, 'MAC keys are quoted for YAML 1.1');
  const doc = parse(text2);
  t.deepEqual(doc.ssh_authorized_keys, ['ssh-ed25519 AAAA lab']);
  t.deepEqual(doc.rancher.network.interfaces, { 'mac=52:54:00:07:00:00': { address: '192.168.0.10/24', dhcp: false }, 'mac=52:54:00:07:01:00': { dhcp: true } });
  t.deepEqual(doc.rancher.docker, { registry_mirror: 'http://10.0.2.100:5000', insecure_registry: ['10.0.2.100:5000'] });
  t.is(doc.coreos, undefined);
  t.throws(() => labUnits(rancheros, [etcd]), { message: /RancherOS runs its services as system-docker containers/ });
  // labos: the config is left exactly as the scenario wrote it.
  t.is(guestConfig(labos, rendered, id), rendered);
});
