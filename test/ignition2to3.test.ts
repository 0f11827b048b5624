// Ignition spec 2.x configs translated to 3.3.0 (lab/guestconfig/ignition2to3.ts), checked by
// Ignition's own parser when ignition-validate is installed.
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { translateIgnition2to3, type Translation } from '../lab/guestconfig/ignition2to3.js';
import { tempTree } from './helpers/files.js';

const ARTICLE = readFileSync('test/fixtures/ignition/article-2.0.0.json', 'utf8');
const T = (config: unknown): Translation => translateIgnition2to3(config);
type Any = any;
const cfg = (t: Translation): Any => t.config;
const decode = (source: string) => decodeURIComponent(source.replace(/^data:,/, ''));
const errors = (t: Translation) => t.issues.filter((i) => i.level === 'error');

test("the article's 2.0.0 config becomes 3.3.0: the btrfs ROOT, two files, the networkd unit as a file, sshd.socket without command/runtime", (t) => {
  const r = T(JSON.parse(ARTICLE));
  const out = cfg(r);
  t.is(out.ignition.version, '3.3.0');
  t.deepEqual(out.storage.filesystems, [{ device: '/dev/disk/by-label/ROOT', format: 'btrfs', wipeFilesystem: true, options: ['--label=ROOT'] }]);
  t.deepEqual(out.storage.files.slice(0, 2), [
    { path: '/etc/systemd/timesyncd.conf', overwrite: true, mode: 420, contents: { source: 'data:,%5BTime%5D%0ANTP=0.ru.pool.ntp.org%201.ru.pool.ntp.org%0A' } },
    { path: '/etc/hostname', overwrite: true, mode: 420, contents: { source: 'data:,node01' } },
  ]);
  const net = out.storage.files[2];
  t.like(net, { path: '/etc/systemd/network/iface-eth0.network', overwrite: true, mode: 420 });
  t.is(decode(net.contents.source), '[Match]\nName=eth0\n\n[Network]\nDNS=188.93.16.19\nDNS=188.93.17.19\nDNS=109.234.159.91\nAddress=10.11.12.13/24\nGateway=10.11.12.1');
  t.is(out.storage.files.length, 3);
  t.deepEqual(out.systemd.units, [{ name: 'sshd.socket', contents: '[Socket]\nListenStream=2345\nFreeBind=true\nAccept=yes' }]);
  t.false('networkd' in out);
  t.deepEqual(Object.keys(out).sort(), ['ignition', 'storage', 'systemd']);
  t.deepEqual(r.issues.map((i) => [i.level, i.path.join('.')]), [['warning', 'systemd.units.0.command'], ['warning', 'systemd.units.0.runtime']]);
  t.regex(r.issues[0].fix, /Ignition runs no unit commands/);
});

const V2_0 = {
  ignition: { version: '2.0.0', config: { append: [{ source: 'http://10.0.2.100/a.ign' }], replace: { source: 'http://10.0.2.100/r.ign', verification: { hash: 'sha512-' + '0'.repeat(128) } } } },
  storage: {
    disks: [{ device: '/dev/vdb', wipeTable: true, partitions: [{ label: 'DATA', number: 1, size: 409600, start: 2048 }] }],
    raid: [{ name: 'md0', level: 'raid1', devices: ['/dev/vdc', '/dev/vdd'], spares: 0 }],
    files: [{ filesystem: 'root', path: '/etc/a', user: { id: 500 }, group: { id: 500 }, contents: { source: 'data:,a', compression: '' } }],
  },
  systemd: { units: [{ name: 'a.service', enable: true, contents: '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n', dropins: [{ name: '10.conf', contents: '[Unit]\n' }] }, { name: 'b.service', mask: true }] },
  passwd: { users: [{ name: 'old', passwordHash: '$6$x', sshAuthorizedKeys: ['ssh-ed25519 AAAA k'], create: { uid: 1010, gecos: 'Old', homeDir: '/home/old', groups: ['sudo'], shell: '/bin/bash', noCreateHome: false } }], groups: [{ name: 'ops', gid: 2000, system: false }] },
};

test('2.0: append/replace become merge/replace, create is flattened into the user, sectors become MiB, enable becomes enabled', (t) => {
  const r = T(V2_0);
  const out = cfg(r);
  t.deepEqual(out.ignition.config, { merge: [{ source: 'http://10.0.2.100/a.ign' }], replace: { source: 'http://10.0.2.100/r.ign', verification: { hash: 'sha512-' + '0'.repeat(128) } } });
  t.deepEqual(r.issues.map((i) => [i.level, i.path.join('.')]), [['warning', 'ignition.config.append'], ['warning', 'ignition.config.replace']]);
  t.regex(r.issues[0].message, /reads spec 3\.x only/);
  t.deepEqual(out.storage.disks, [{ device: '/dev/vdb', wipeTable: true, partitions: [{ label: 'DATA', number: 1, sizeMiB: 200, startMiB: 1 }] }]);
  t.deepEqual(out.storage.raid, [{ name: 'md0', level: 'raid1', devices: ['/dev/vdc', '/dev/vdd'] }]);
  t.deepEqual(out.storage.files, [{ path: '/etc/a', user: { id: 500 }, group: { id: 500 }, overwrite: true, contents: { source: 'data:,a' } }]);
  t.deepEqual(out.systemd.units, [{ name: 'a.service', enabled: true, contents: '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n', dropins: [{ name: '10.conf', contents: '[Unit]\n' }] }, { name: 'b.service', mask: true }]);
  t.deepEqual(out.passwd.users, [{ name: 'old', passwordHash: '$6$x', sshAuthorizedKeys: ['ssh-ed25519 AAAA k'], uid: 1010, gecos: 'Old', homeDir: '/home/old', groups: ['sudo'], shell: '/bin/bash' }]);
  t.deepEqual(out.passwd.groups, [{ name: 'ops', gid: 2000 }]);
});

test('2.0: keys of later specs (links, a user\'s uid, user.name) are ignored with a warning, as Ignition 2.0 does', (t) => {
  const r = T({ ignition: { version: '2.0.0' }, storage: { links: [{ filesystem: 'root', path: '/x', target: '/y' }], files: [{ filesystem: 'root', path: '/a', user: { name: 'core' } }] }, passwd: { users: [{ name: 'u', uid: 5 }] } });
  t.deepEqual(r.issues.map((i) => [i.level, i.path.join('.')]), [['warning', 'storage.links'], ['warning', 'storage.files.0.user.name'], ['warning', 'passwd.users.0.uid']]);
  t.regex(r.issues[0].message, /storage\.links is a spec 2\.1\.0 key, but the config says 2\.0\.0/);
  t.is(r.issues[0].fix, 'raise ignition.version to 2.1.0, or remove it');
  t.false('links' in cfg(r).storage);
  t.deepEqual(cfg(r).passwd.users, [{ name: 'u' }]);
});

const V2_1 = {
  ignition: { version: '2.1.0', timeouts: { httpResponseHeaders: 10, httpTotal: 60 } },
  storage: {
    filesystems: [
      { name: 'data', mount: { device: '/dev/vdb', format: 'ext4', wipeFilesystem: true, label: 'DATA', uuid: '8d8c9a29-4f2a-4a0e-9d1a-3e2b0f0c1a11', options: ['-m0'] } },
      { name: 'oem', path: '/usr/share/oem' },
    ],
    files: [{ filesystem: 'oem', path: '/grub.cfg', mode: 420, user: { name: 'core' }, contents: { source: 'data:,set%20x' } }],
    directories: [{ filesystem: 'oem', path: '/bin', mode: 493 }],
    links: [{ filesystem: 'root', path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC', hard: false }],
  },
  systemd: { units: [{ name: 'on.service', enabled: true, contents: '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n' }, { name: 'off.service', enable: true, enabled: false }] },
  passwd: { users: [{ name: 'core', uid: 500, groups: ['docker'], create: { shell: '/bin/zsh' } }, { name: 'flat', uid: 600, shell: '/bin/sh', system: true }] },
};

test('2.1: a filesystem with a path places its files there, wipeFilesystem and options carry over, enabled wins over enable', (t) => {
  const r = T(V2_1);
  const out = cfg(r);
  t.deepEqual(errors(r), []);
  t.deepEqual(out.ignition.timeouts, { httpResponseHeaders: 10, httpTotal: 60 });
  t.deepEqual(out.storage.filesystems, [{ device: '/dev/vdb', format: 'ext4', wipeFilesystem: true, label: 'DATA', uuid: '8d8c9a29-4f2a-4a0e-9d1a-3e2b0f0c1a11', options: ['-m0'] }]);
  t.deepEqual(out.storage.files, [{ path: '/usr/share/oem/grub.cfg', user: { name: 'core' }, overwrite: true, mode: 420, contents: { source: 'data:,set%20x' } }]);
  t.deepEqual(out.storage.directories, [{ path: '/usr/share/oem/bin', mode: 493 }]);
  t.deepEqual(out.storage.links, [{ path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC' }]);
  t.deepEqual(out.systemd.units.map((u: Any) => [u.name, u.enabled]), [['on.service', true], ['off.service', false]]);
  // A create (deprecated in 2.1) replaces the user's own fields, as Ignition 2.x applies it.
  t.deepEqual(out.passwd.users, [{ name: 'core', shell: '/bin/zsh' }, { name: 'flat', uid: 600, shell: '/bin/sh', system: true }]);
});

const V2_2 = {
  ignition: { version: '2.2.0', security: { tls: { certificateAuthorities: [{ source: 'data:,ca' }] } } },
  storage: {
    raid: [{ name: 'md0', level: 'raid1', devices: ['/dev/vdc', '/dev/vdd'], options: ['--metadata=1.2'] }],
    files: [
      { filesystem: 'root', path: '/etc/motd', append: true, contents: { source: 'data:,hi' } },
      { filesystem: 'root', path: '/etc/keep', overwrite: false, contents: { source: 'data:,k' } },
      { filesystem: 'root', path: '/etc/empty' },
    ],
    directories: [{ filesystem: 'root', path: '/var/lib/x', overwrite: true }],
    links: [{ filesystem: 'root', path: '/etc/hard', target: '/etc/motd', hard: true, overwrite: true }],
  },
  networkd: { units: [{ name: '00-eth0.network', contents: '[Match]\nName=eth0\n', dropins: [{ name: '10-dns.conf', contents: '[Network]\nDNS=10.0.2.3\n' }] }] },
};

test('2.2: overwrite and append carry over (an appended file never overwrites), an empty file gets data:, networkd drop-ins become files', (t) => {
  const r = T(V2_2);
  const out = cfg(r);
  t.deepEqual(errors(r), []);
  t.deepEqual(out.ignition.security, { tls: { certificateAuthorities: [{ source: 'data:,ca' }] } });
  t.deepEqual(out.storage.raid[0].options, ['--metadata=1.2']);
  t.deepEqual(out.storage.files.slice(0, 3), [
    { path: '/etc/motd', overwrite: false, append: [{ source: 'data:,hi' }] },
    { path: '/etc/keep', overwrite: false, contents: { source: 'data:,k' } },
    { path: '/etc/empty', overwrite: true, contents: { source: 'data:,' } },
  ]);
  t.deepEqual(out.storage.files.slice(3).map((f: Any) => [f.path, f.mode, decode(f.contents.source)]), [
    ['/etc/systemd/network/00-eth0.network', 420, '[Match]\nName=eth0\n'],
    ['/etc/systemd/network/00-eth0.network.d/10-dns.conf', 420, '[Network]\nDNS=10.0.2.3\n'],
  ]);
  t.deepEqual(out.storage.directories, [{ path: '/var/lib/x', overwrite: true }]);
  t.deepEqual(out.storage.links, [{ path: '/etc/hard', overwrite: true, target: '/etc/motd', hard: true }]);
});

const V2_3 = {
  ignition: { version: '2.3.0' },
  storage: { disks: [{ device: '/dev/vdb', partitions: [{ label: 'A', number: 1, sizeMiB: 512, startMiB: 0, wipePartitionEntry: true, shouldExist: true, guid: '5F4C37C4-1B9B-4E4A-9A3E-1E4C3A2B7D10' }, { number: 2, shouldExist: false }] }] },
};

test('2.3: sizeMiB/startMiB, wipePartitionEntry and shouldExist carry over', (t) => {
  const r = T(V2_3);
  t.deepEqual(errors(r), []);
  t.deepEqual(cfg(r).storage.disks[0].partitions, [
    { label: 'A', number: 1, sizeMiB: 512, startMiB: 0, guid: '5F4C37C4-1B9B-4E4A-9A3E-1E4C3A2B7D10', wipePartitionEntry: true, shouldExist: true },
    { number: 2, shouldExist: false },
  ]);
  t.regex(T({ ignition: { version: '2.2.0' }, storage: { disks: [{ device: '/dev/vdb', partitions: [{ sizeMiB: 5 }] }] } }).issues[0].message, /sizeMiB is a spec 2\.3\.0 key/);
});

test('what spec 3 cannot say is an error naming the key: a filesystem with no path, create without force, odd sectors, bad paths, two entries for one path', (t) => {
  const paths = (config: unknown) => errors(T(config)).map((i) => i.path.join('.'));
  const noPath = T({ ignition: { version: '2.1.0' }, storage: { filesystems: [{ name: 'data', mount: { device: '/dev/vdb', format: 'ext4' } }], files: [{ filesystem: 'data', path: '/a' }, { filesystem: 'nope', path: '/b' }] } });
  t.deepEqual(errors(noPath).map((i) => i.path.join('.')), ['storage.files.0.filesystem', 'storage.files.1.filesystem']);
  t.regex(errors(noPath)[0].message, /storage\.files\[0\]\.filesystem "data" is not "root" and names no filesystem with a "path"/);
  t.regex(errors(noPath)[0].fix, /put it on "root"/);
  t.deepEqual(paths({ ignition: { version: '2.0.0' }, storage: { filesystems: [{ mount: { device: '/dev/vdb', format: 'ext4', create: { options: ['-m0'] } } }] } }), ['storage.filesystems.0.mount.create']);
  t.deepEqual(paths({ ignition: { version: '2.0.0' }, storage: { disks: [{ device: '/dev/vdb', partitions: [{ size: 1000 }] }] } }), ['storage.disks.0.partitions.0.size']);
  t.deepEqual(paths({ ignition: { version: '2.1.0' }, storage: { files: [{ filesystem: 'root', path: 'etc/a' }], directories: [{ filesystem: 'root', path: '/etc/../../x' }] } }), ['storage.files.0.path', 'storage.directories.0.path']);
  t.deepEqual(paths({ ignition: { version: '2.0.0' }, storage: { files: [{ filesystem: 'root', path: '/etc/systemd/network/a.network' }] }, networkd: { units: [{ name: 'a.network' }] } }), ['networkd.units.0']);
  const dup = errors(T({ ignition: { version: '2.1.0' }, storage: { files: [{ filesystem: 'root', path: 'bad' }, { filesystem: 'root', path: '/x' }], links: [{ filesystem: 'root', path: '/x', target: '/y' }] } }));
  t.deepEqual(dup.map((i) => i.path.join('.')), ['storage.files.0.path', 'storage.links.0'], 'the index is the 2.x one, also after a bad entry');
  t.regex(dup[1].message, /^storage\.links\[0\] and storage\.files\[1\] are both \/x: spec 3 takes one entry per path/);
  t.deepEqual(paths({ ignition: { version: '2.0.0' }, storage: { files: [{ path: '/a' }] } }), ['storage.files.0']);
  t.deepEqual(paths({ ignition: { version: '2.0.0' }, systemd: { units: 'a.service' } }), ['systemd.units']);
  t.deepEqual(paths({ ignition: { version: '3.0.0' } }), ['ignition.version']);
});

const VALIDATE = '/usr/bin/ignition-validate';
const validateTest = existsSync(VALIDATE) ? test : test.skip;
const why = existsSync(VALIDATE) ? '' : ` (skipped: ${VALIDATE} is absent; Debian's ignition package has it)`;

validateTest(`Ignition's own parser (ignition-validate, from Ignition 2.14) accepts every translation without a warning${why}`, async (t) => {
  const tree = tempTree({});
  t.teardown(tree.remove);
  for (const [name, config] of Object.entries({ article: JSON.parse(ARTICLE), V2_0, V2_1, V2_2, V2_3 })) {
    const file = join(tree.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(T(config).config, null, 2));
    const r = await execa(VALIDATE, [file], { reject: false, all: true });
    t.is(r.exitCode, 0, `${name}: ${r.all}`);
    t.is(r.all, '', name);
  }
  // And it refuses the 2.0.0 original: the reason for the translation.
  const raw = join(tree.dir, 'raw.json');
  writeFileSync(raw, ARTICLE);
  const r = await execa(VALIDATE, [raw], { reject: false, all: true });
  t.not(r.exitCode, 0);
  t.regex(r.all ?? '', /unsupported config version/);
});
