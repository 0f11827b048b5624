import test from 'ava';
import { loadCatalog } from '../lab/images/catalog.js';
import { deliveryFor, writeDelivery } from '../lab/guestconfig/delivery.js';
import { guestConfig } from '../lab/guestconfig/guestconfig.js';
import { fwCfgArgs } from '../lab/machine/boot.js';
import { buildIso, type NodeIdentity } from '../lab/guestconfig/configdrive.js';
import { LabError } from '../lab/util/errors.js';
import { execa } from 'execa';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { tempTree } from './helpers/files.js';

const catalog = loadCatalog();
const id: NodeIdentity = { instanceId: 'i-1', hostname: 'node00', sshPublicKey: 'ssh-ed25519 AAAA lab', address: '192.168.0.10', prefix: 24, lanMac: '52:54:00:01:00:00', hostMac: '52:54:00:01:01:00' };
const CLOUD = '#cloud-config\nhostname: node00\ncoreos:\n  etcd2:\n    discovery: http://10.0.2.100:2379/x\n';
const IGNITION = JSON.stringify({ ignition: { version: '3.3.0' }, passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['ssh-rsa mine'] }] } });

test('Flatcar: an Ignition config goes through fw_cfg with the lab key added, and no drive', (t) => {
  const d = deliveryFor(catalog.get('flatcar-stable')!, guestConfig(catalog.get('flatcar-stable')!, IGNITION, id), id);
  if (d.kind !== 'fw_cfg') return t.fail();
  t.is(d.name, 'opt/org.flatcar-linux/config');
  const ign = JSON.parse(d.content);
  t.deepEqual(ign.passwd.users[0].sshAuthorizedKeys, ['ssh-rsa mine', 'ssh-ed25519 AAAA lab']);
  t.deepEqual(ign.storage.files.at(-1), { path: '/etc/hostname', mode: 420, overwrite: true, contents: { source: 'data:,node00' } });
  t.deepEqual(fwCfgArgs(d.name, '/lab/node00/ignition.json'), ['-fw_cfg', 'name=opt/org.flatcar-linux/config,file=/lab/node00/ignition.json']);
});

test('Flatcar: a cloud-config goes on a config-2 drive that coreos-cloudinit reads', async (t) => {
  const d = deliveryFor(catalog.get('flatcar-stable')!, CLOUD, id);
  if (d.kind !== 'drive') return t.fail();
  t.is(d.label, 'config-2');
  const out = tempTree({});
  t.teardown(out.remove);
  const iso = join(out.dir, 'config-2.iso');
  await buildIso(iso, d.label, d.files);
  await execa('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/openstack/latest/user_data', join(out.dir, 'user_data')]);
  t.regex(readFileSync(join(out.dir, 'user_data'), 'utf8'), /coreos:\n {2}etcd2:\n {4}discovery: http:\/\/10\.0\.2\.100:2379\/x/);
  t.regex((await execa('xorriso', ['-indev', iso, '-pvd_info'], { all: true })).all!, /Volume Id\s*:\s*config-2/);
});

test('RancherOS: a cloud-config goes on a config-2 drive with the key for rancher', (t) => {
  const d = deliveryFor(catalog.get('rancheros-1.5.8')!, '#cloud-config\nrancher:\n  network: {}\n', id);
  if (d.kind !== 'drive') return t.fail();
  t.is(d.drive, 'config-2');
  t.deepEqual(JSON.parse(d.files['openstack/latest/meta_data.json']).public_keys, { lab: 'ssh-ed25519 AAAA lab' });
  t.is(catalog.get('rancheros-1.5.8')!.user, 'rancher');
});

test('an Ignition config for an image that does not read Ignition, and a broken one, are refused', (t) => {
  t.throws(() => deliveryFor(catalog.get('rancheros-1.5.8')!, IGNITION, id), { instanceOf: LabError, message: /does not read Ignition/ });
  t.throws(() => deliveryFor(catalog.get('flatcar-stable')!, '{"ignition": {}}', id), { message: /no ignition\.version/ });
  t.throws(() => deliveryFor(catalog.get('flatcar-stable')!, '{ nope', id), { message: /not valid JSON/ });
});

test('writeDelivery puts a drive config in <drive>.iso and an Ignition config in ignition.json, one or the other', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  const drive = await writeDelivery(deliveryFor(catalog.get('rancheros-1.5.8')!, CLOUD, id), out.dir);
  t.deepEqual(drive, { configDrive: join(out.dir, 'config-2.iso') });
  t.regex((await execa('xorriso', ['-indev', drive.configDrive!, '-pvd_info'], { all: true })).all!, /Volume Id\s*:\s*config-2/);
  const fw = await writeDelivery(deliveryFor(catalog.get('flatcar-stable')!, guestConfig(catalog.get('flatcar-stable')!, IGNITION, id), id), out.dir);
  t.deepEqual(fw, { fwCfg: { name: 'opt/org.flatcar-linux/config', file: join(out.dir, 'ignition.json') } });
  t.deepEqual(JSON.parse(readFileSync(fw.fwCfg!.file, 'utf8')).passwd.users[0].sshAuthorizedKeys, ['ssh-rsa mine', 'ssh-ed25519 AAAA lab']);
  t.is(statSync(fw.fwCfg!.file).mode & 0o777, 0o600);
});
