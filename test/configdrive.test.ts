import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { buildIso, configDriveFiles, prefixToNetmask, type NodeIdentity } from '../lab/guestconfig/configdrive.js';

const id: NodeIdentity = {
  instanceId: 'i-0001',
  hostname: 'node00',
  sshPublicKey: 'ssh-ed25519 AAAAC3Nza test',
  address: '192.168.0.10',
  prefix: 24,
  lanMac: '52:54:00:01:00:00',
  hostMac: '52:54:00:01:01:00',
};
const userData = '#cloud-config\nhostname: node00\n';

/** Reads an ISO back the way a guest would see it: volume label and files. */
async function readIso(iso: string): Promise<{ label: string; files: Record<string, string> }> {
  const out = mkdtempSync(join(tmpdir(), 'corelab-iso-'));
  try {
    const pvd = await execa('xorriso', ['-indev', iso, '-pvd_info'], { all: true });
    const label = pvd.all!.match(/Volume Id\s*:\s*(\S+)/)![1];
    await execa('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out]);
    const list = await execa('find', [out, '-type', 'f']);
    const files: Record<string, string> = {};
    for (const f of list.stdout.split('\n').filter(Boolean)) files[f.slice(out.length + 1)] = readFileSync(f, 'utf8');
    return { label, files };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('a NoCloud cidata drive carries user-data, meta-data with the key, and a static eth0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const iso = join(dir, 'cidata.iso');
  await buildIso(iso, 'cidata', configDriveFiles('cidata', userData, id));
  const { label, files } = await readIso(iso);
  t.is(label, 'cidata');
  t.is(files['user-data'], userData);
  t.deepEqual(parse(files['meta-data']), { 'instance-id': 'i-0001', 'local-hostname': 'node00', 'public-keys': ['ssh-ed25519 AAAAC3Nza test'] });
  t.regex(files['network-config'], /macaddress: "52:54:00:01:00:00"/, 'MACs are quoted: YAML 1.1 reads 52:54:00:... as a number');
  const net = parse(files['network-config']);
  t.is(net.version, 2);
  t.deepEqual(net.ethernets.lan, { match: { macaddress: id.lanMac }, 'set-name': 'eth0', addresses: ['192.168.0.10/24'] });
  t.true(net.ethernets.host.dhcp4);
});

test('an OpenStack config-2 drive carries openstack/latest user_data and meta_data.json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const iso = join(dir, 'config-2.iso');
  await buildIso(iso, 'config-2', configDriveFiles('config-2', userData, id));
  const { label, files } = await readIso(iso);
  t.is(label, 'config-2');
  t.is(files['openstack/latest/user_data'], userData);
  const meta = JSON.parse(files['openstack/latest/meta_data.json']);
  t.is(meta.uuid, 'i-0001');
  t.is(meta.hostname, 'node00');
  t.deepEqual(Object.values(meta.public_keys), ['ssh-ed25519 AAAAC3Nza test']);
  const net = JSON.parse(files['openstack/latest/network_data.json']);
  t.deepEqual(net.networks[0], { id: 'lan4', link: 'lan', type: 'ipv4', ip_address: '192.168.0.10', netmask: '255.255.255.0' });
});

test('netmasks from prefixes', (t) => {
  t.is(prefixToNetmask(24), '255.255.255.0');
  t.is(prefixToNetmask(16), '255.255.0.0');
  t.is(prefixToNetmask(28), '255.255.255.240');
});
