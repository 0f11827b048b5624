// labos (ignition_spec: 3): a 2.x Ignition config is translated to 3.3.0, then the lab's additions
// (key, hostname, network) go into that one document, which goes by fw_cfg.
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadCatalog } from '../lab/images/catalog.js';
import { deliveryFor } from '../lab/guestconfig/delivery.js';
import { guestConfig } from '../lab/guestconfig/guestconfig.js';
import type { NodeIdentity } from '../lab/guestconfig/configdrive.js';
import { LabError } from '../lab/util/errors.js';
import { tempTree } from './helpers/files.js';

const catalog = loadCatalog();
const labos = catalog.get('labos')!;
const flatcar = catalog.get('flatcar-stable')!;
const id: NodeIdentity = { instanceId: 'i-1', hostname: 'node00', sshPublicKey: 'ssh-ed25519 AAAA lab', address: '192.168.0.10', prefix: 24, lanMac: '52:54:00:01:00:00', hostMac: '52:54:00:01:01:00' };
const ARTICLE = readFileSync('test/fixtures/ignition/article-2.0.0.json', 'utf8');
const BARE = JSON.stringify({ ignition: { version: '2.1.0' }, systemd: { units: [{ name: 'hello.service', enabled: true, contents: '[Service]\nExecStart=/bin/echo hi\n[Install]\nWantedBy=multi-user.target\n' }] } });
const paths = (doc: { storage: { files: Array<{ path: string }> } }) => doc.storage.files.map((f) => f.path);

test("labos: the article's 2.0.0 config is delivered as 3.3.0 by fw_cfg, with the lab key for core; its own network and hostname are kept", (t) => {
  const doc = JSON.parse(guestConfig(labos, ARTICLE, id));
  t.is(doc.ignition.version, '3.3.0');
  t.false('networkd' in doc);
  t.deepEqual(paths(doc), ['/etc/systemd/timesyncd.conf', '/etc/hostname', '/etc/systemd/network/iface-eth0.network']);
  t.deepEqual(doc.passwd.users, [{ name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAA lab'] }]);
  t.deepEqual(doc.systemd.units, [{ name: 'sshd.socket', contents: '[Socket]\nListenStream=2345\nFreeBind=true\nAccept=yes' }]);
  const d = deliveryFor(labos, JSON.stringify(doc), id);
  if (d.kind !== 'fw_cfg') return t.fail();
  t.is(d.name, 'opt/com.coreos/config');
  t.deepEqual(JSON.parse(d.content), doc);
});

test('labos: a 2.x config without files gets the lab network and hostname as 3.x files (overwrite, no filesystem), after the translation', (t) => {
  const doc = JSON.parse(guestConfig(labos, BARE, id));
  t.is(doc.ignition.version, '3.3.0');
  t.deepEqual(paths(doc), ['/etc/systemd/network/00-corelab-lan.network', '/etc/systemd/network/00-corelab-host.network', '/etc/hostname']);
  for (const f of doc.storage.files) {
    t.false('filesystem' in f, f.path);
    t.like(f, { overwrite: true, mode: 420 });
  }
  t.is(doc.storage.files[2].contents.source, 'data:,node00');
  t.regex(decodeURIComponent(doc.storage.files[0].contents.source), /MACAddress=52:54:00:01:00:00\n\n\[Network\]\nAddress=192\.168\.0\.10\/24/);
  t.deepEqual(doc.systemd.units.map((u: { name: string; enabled?: boolean }) => [u.name, u.enabled]), [['hello.service', true]]);
  t.deepEqual(doc.passwd.users, [{ name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAA lab'] }]);
  // A raw 2.x config handed to delivery is translated there too.
  const d = deliveryFor(labos, BARE, id);
  t.is(d.kind === 'fw_cfg' && JSON.parse(d.content).ignition.version, '3.3.0');
});

test('labos: a 3.x config is kept as written (3.0.0 too); a cloud-config still goes on the cidata drive', (t) => {
  const v30 = JSON.parse(guestConfig(labos, JSON.stringify({ ignition: { version: '3.0.0' } }), id));
  t.is(v30.ignition.version, '3.0.0');
  t.deepEqual(paths(v30).at(-1), '/etc/hostname');
  const d = deliveryFor(labos, '#cloud-config\nhostname: node00\n', id);
  t.is(d.kind === 'drive' && d.drive, 'cidata');
});

test('labos: a spec it cannot read, and a 2.x config that cannot be translated, are refused naming the key', (t) => {
  t.throws(() => guestConfig(labos, '{"ignition": {"version": "3.4.0"}}', id), { instanceOf: LabError, message: /labos's Ignition reads config spec 3\.0\.0, 3\.1\.0, 3\.2\.0, 3\.3\.0 \(and corelab translates 2\.0\.0, 2\.1\.0, 2\.2\.0, 2\.3\.0\); this config says 3\.4\.0/ });
  const bad = JSON.stringify({ ignition: { version: '2.1.0' }, storage: { filesystems: [{ name: 'data', mount: { device: '/dev/vdb', format: 'ext4' } }], files: [{ filesystem: 'data', path: '/x' }] } });
  const err = t.throws(() => deliveryFor(labos, bad, id), { instanceOf: LabError });
  t.regex(err!.message, /cannot be translated to 3\.3\.0 for labos: storage\.files\[0\]\.filesystem "data" is not "root"/);
  t.regex(err!.fix ?? '', /^storage\.files\[0\]\.filesystem: put it on "root"/);
});

test('Flatcar: a 2.x config is delivered as written (its Ignition reads 2.x), with the lab files on "root"', (t) => {
  const doc = JSON.parse(guestConfig(flatcar, BARE, id));
  t.is(doc.ignition.version, '2.1.0');
  t.deepEqual(doc.storage.files.map((f: { filesystem?: string }) => f.filesystem), ['root', 'root', 'root']);
  t.false(doc.storage.files.some((f: object) => 'overwrite' in f));
  const article = JSON.parse(guestConfig(flatcar, ARTICLE, id));
  t.is(article.ignition.version, '2.0.0');
  t.is(article.systemd.units[0].command, 'restart');
  t.is(article.networkd.units[0].name, 'iface-eth0.network');
});

const VALIDATE = '/usr/bin/ignition-validate';
const why = existsSync(VALIDATE) ? '' : ` (skipped: ${VALIDATE} is absent; Debian's ignition package has it)`;
(existsSync(VALIDATE) ? test : test.skip)(`what labos gets, additions included, passes Ignition's own ignition-validate${why}`, async (t) => {
  const tree = tempTree({});
  t.teardown(tree.remove);
  for (const [name, config] of Object.entries({ ARTICLE, BARE })) {
    const d = deliveryFor(labos, guestConfig(labos, config, id), id);
    if (d.kind !== 'fw_cfg') return t.fail();
    const file = join(tree.dir, `${name}.json`);
    writeFileSync(file, d.content);
    const r = await execa(VALIDATE, [file], { reject: false, all: true });
    t.is(r.exitCode, 0, `${name}: ${r.all}`);
    t.is(r.all, '', name);
  }
});

test('units the lab merges into a 2.0.0 config are turned on with "enable" (2.0.0 has no "enabled"), into later ones with "enabled"', (t) => {
  const unit = { name: 'corelab-artifacts.service', content: '[Service]\nExecStart=/bin/true\n', command: 'start' as const, enable: true };
  const v20 = JSON.parse(guestConfig(flatcar, '{"ignition": {"version": "2.0.0"}, "systemd": {"units": [{"name": "etcd2.service"}]}}', id, [{ name: 'etcd2.service', content: 'x', enable: true }, unit]));
  t.deepEqual(v20.systemd.units.map((u: object) => Object.keys(u)), [['name', 'contents', 'enable'], ['name', 'enable', 'contents']]);
  const v21 = JSON.parse(guestConfig(flatcar, BARE, id, [unit]));
  t.deepEqual(v21.systemd.units.map((u: { name: string; enabled?: boolean }) => [u.name, u.enabled]), [['hello.service', true], ['corelab-artifacts.service', true]]);
  const onLabos = JSON.parse(guestConfig(labos, '{"ignition": {"version": "2.0.0"}}', id, [unit]));
  t.deepEqual(onLabos.systemd.units.map((u: { name: string; enabled?: boolean }) => [u.name, u.enabled]), [['corelab-artifacts.service', true]]);
});

test('a config with its own network gets none from the lab: networkd units (2.x, on Flatcar as written) count as much as files', (t) => {
  const withUnits = JSON.parse(guestConfig(flatcar, ARTICLE, id));
  t.deepEqual(withUnits.storage.files.map((f: { path: string }) => f.path), ['/etc/systemd/timesyncd.conf', '/etc/hostname']);
  t.deepEqual(paths(JSON.parse(guestConfig(labos, ARTICLE, id))).filter((p) => p.startsWith('/etc/systemd/network/')), ['/etc/systemd/network/iface-eth0.network']);
  t.deepEqual(paths(JSON.parse(guestConfig(flatcar, BARE, id))).filter((p) => p.startsWith('/etc/systemd/network/')), ['/etc/systemd/network/00-corelab-lan.network', '/etc/systemd/network/00-corelab-host.network']);
});
