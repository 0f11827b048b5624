import test from 'ava';
import { execa } from 'execa';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceProps, guestPciAddr, releaseData, splitHotplug } from '../lab/machine/hotplug.js';
import { Machine } from '../lab/machine/machine.js';
import { labosBoot } from '../lab/machine/boot.js';
import { pruneTemplates, templateKey, templatesApply, templatesDir, TEMPLATE_CMDLINE } from '../lab/machine/template.js';
import { buildProfile } from '../lab/cluster/bootprofile.js';
import type { ImageFiles } from '../lab/images/store.js';
import { emptyCache } from './helpers/files.js';

const labos: ImageFiles = { name: 'labos', dir: '/c/labos', key: 'k', disk: '/c/labos/disk.qcow2', kernel: '/c/labos/vmlinuz', initrd: '/c/labos/initrd.img', plainInitrd: '/c/labos/initrd-plain.img', cmdline: 'root=/dev/vda console=ttyS0' };
const net = ['-netdev', 'vde,id=lan,sock=/sw', '-device', 'virtio-net-pci,netdev=lan,mac=52:54:00:01:00:00,addr=0x3', '-netdev', 'user,id=host', '-device', 'virtio-net-pci,netdev=host,mac=52:54:00:01:01:00,addr=0x4'];
const tpl = { key: 'abc', kernel: '/c/labos/vmlinuz', state: '/t/state.zst', disk: '/t/disk.qcow2', cmdline: `root=/dev/vda console=ttyS0 ${TEMPLATE_CMDLINE}` };

test('a start from a template: the template\'s devices and command line, every other device left for hotplug, release disk last', (t) => {
  const m = new Machine({ name: 'node00', dir: '/lab/node00', boot: labosBoot(labos), memoryMb: 1024, cpus: 2, accel: 'tcg', configDrive: '/lab/node00/cidata.iso', netArgs: net, template: tpl });
  t.true(m.fromTemplate);
  const args = m.qemuArgs();
  const devices = args.filter((_, i) => args[i - 1] === '-device');
  t.deepEqual(devices, ['virtio-blk-pci,drive=root,addr=0x5', 'virtio-rng-pci,addr=0x2'], 'the devices a template was saved with');
  t.is(args[args.indexOf('-append') + 1], tpl.cmdline);
  t.deepEqual(args.slice(-2), ['-incoming', 'defer']);
  t.true(args.includes('if=none,id=drive1,file=/lab/node00/cidata.iso,format=raw,readonly=on'), 'backends stay on the command line');
  t.true(args.includes('vde,id=lan,sock=/sw'));
  const { devices: plugged } = splitHotplug(new Machine({ name: 'node00', dir: '/lab/node00', boot: labosBoot(labos), memoryMb: 1024, cpus: 2, accel: 'tcg', configDrive: '/lab/node00/cidata.iso', netArgs: net }).qemuArgs());
  t.deepEqual(plugged.map((d) => d.addr), ['0x6', '0x3', '0x4', '0x1f']);
  t.deepEqual(plugged[3], { driver: 'virtio-blk-pci', drive: 'release', serial: 'labos-release', addr: '0x1f' });
  // A checkpoint's memory wins over a template: it is that node, later.
  const resumed = new Machine({ name: 'node00', dir: '/lab/node00', boot: labosBoot(labos), memoryMb: 1024, cpus: 2, accel: 'tcg', netArgs: net, template: tpl, incoming: '/cp/state' });
  t.false(resumed.fromTemplate);
  t.is(resumed.qemuArgs().filter((a) => a === '-device').length, 5);
});

test('device options and PCI addresses: what device_add and the guest see', (t) => {
  t.deepEqual(deviceProps('virtio-net-pci,netdev=lan,mac=52:54:00:01:00:00,addr=0x3'), { driver: 'virtio-net-pci', netdev: 'lan', mac: '52:54:00:01:00:00', addr: '0x3' });
  t.deepEqual(deviceProps('d,x=1'), { driver: 'd', x: '1' }, 'a one-letter key');
  t.throws(() => deviceProps('virtio-net-pci,bare'), { message: /without a value/ });
  t.throws(() => deviceProps('virtio-net-pci,=x'), { message: /without a value/ });
  t.is(guestPciAddr('0x3'), '0000:00:03.0');
  t.is(guestPciAddr('0x1f'), '0000:00:1f.0');
  t.is(guestPciAddr('0x0'), '0000:00:00.0');
  for (const bad of ['0x20', '-1', 'zz', '1.5']) t.throws(() => guestPciAddr(bad), { message: `not a PCI slot: ${bad}` });
});

test('splitHotplug: the command line keeps all but the hotplugged devices, in order; the release disk goes last from anywhere', (t) => {
  const args = ['qemu', '-drive', 'if=none,id=release', '-device', 'virtio-blk-pci,drive=release,serial=labos-release,addr=0x1f', '-device', 'virtio-rng-pci,addr=0x2', '-netdev', 'user,id=host', '-device', 'virtio-net-pci,netdev=host,addr=0x4', '-device', 'virtio-blk-pci,drive=root,addr=0x5', '-qmp', 'x'];
  const { args: kept, devices } = splitHotplug(args);
  t.deepEqual(kept, ['qemu', '-drive', 'if=none,id=release', '-device', 'virtio-rng-pci,addr=0x2', '-netdev', 'user,id=host', '-device', 'virtio-blk-pci,drive=root,addr=0x5', '-qmp', 'x']);
  t.deepEqual(devices.map((d) => d.addr), ['0x4', '0x1f']);
});

test('the release disk: key=value lines the hold script reads, NUL-padded to 4 KiB', async (t) => {
  const buf = releaseData({ time: 1796526221.5, machineId: 'a'.repeat(32), seed: 'ff'.repeat(64), pci: ['0x3', '0x1f'] });
  t.is(buf.length, 4096);
  t.is(buf.toString().split('\0')[0], `time=1796526221.500\nmachine_id=${'a'.repeat(32)}\nseed=${'ff'.repeat(64)}\npci=0000:00:03.0 0000:00:1f.0\n`);
  // The same parsing images/labos/files/usr/lib/labos/template-hold does.
  const py = 'import sys; raw=sys.stdin.buffer.read(4096).split(b"\\0",1)[0].decode(); kv=dict(l.split("=",1) for l in raw.splitlines() if "=" in l); print(repr(float(kv["time"])), kv["machine_id"], len(bytes.fromhex(kv["seed"])), kv["pci"].split())';
  const r = await execa('python3', ['-c', py], { input: buf });
  t.is(r.stdout, `1796526221.5 ${'a'.repeat(32)} 64 ['0000:00:03.0', '0000:00:1f.0']`);
  t.throws(() => releaseData({ time: 1, machineId: 'x', seed: 'ff'.repeat(3000), pci: [] }), { message: /4 KiB/ });
});

test('templates apply to labos under TCG only, and CORELAB_BOOT_TEMPLATE=0 turns them off', (t) => {
  const b = labosBoot(labos);
  t.true(templatesApply(b, 'tcg'));
  t.false(templatesApply(b, 'kvm'));
  t.false(templatesApply({ ...b, kernel: { ...b.kernel!, plainInitrd: undefined } }, 'tcg'));
  process.env.CORELAB_BOOT_TEMPLATE = '0';
  t.teardown(() => delete process.env.CORELAB_BOOT_TEMPLATE);
  t.false(templatesApply(b, 'tcg'));
});

test('a template\'s key changes with the image, the size and the machine', async (t) => {
  const r = { boot: labosBoot(labos), memoryMb: 1024, cpus: 2, accel: 'tcg' as const };
  const k = await templateKey(r);
  t.is(await templateKey({ ...r }), k);
  t.not(await templateKey({ ...r, cpus: 1 }), k);
  t.not(await templateKey({ ...r, memoryMb: 2048 }), k);
  t.not(await templateKey({ ...r, boot: labosBoot({ ...labos, kernel: '/c/labos2/vmlinuz' }) }), k);
  t.not(await templateKey({ ...r, boot: labosBoot({ ...labos, cmdline: 'console=ttyS0' }) }), k);
});

test('pruning: a template whose image is gone and an unfinished one of a dead process are removed, the rest kept', (t) => {
  const cache = emptyCache(t);
  const root = templatesDir();
  const kernel = join(cache, 'vmlinuz');
  writeFileSync(kernel, '');
  const make = (name: string, k: string) => {
    mkdirSync(join(root, name), { recursive: true });
    for (const f of ['state.zst', 'disk.qcow2']) writeFileSync(join(root, name, f), '');
    writeFileSync(join(root, name, 'template.json'), JSON.stringify({ key: name, kernel: k, state: join(root, name, 'state.zst'), disk: join(root, name, 'disk.qcow2'), cmdline: 'x' }));
  };
  make('live', kernel);
  make('gone', join(cache, 'no-such-vmlinuz'));
  mkdirSync(join(root, 'x.tmp-999999999'), { recursive: true });
  mkdirSync(join(root, `y.tmp-${process.pid}`), { recursive: true });
  pruneTemplates();
  t.true(existsSync(join(root, 'live')));
  t.false(existsSync(join(root, 'gone')));
  t.false(existsSync(join(root, 'x.tmp-999999999')));
  t.true(existsSync(join(root, `y.tmp-${process.pid}`)), 'a live process is still making it');
});

test('boot profile of a node from a template: its own boot starts at the release; no kernel stamps expected', (t) => {
  const out = '@@uptime\n50.0\n@@analyze\nStartup finished in 2.7s (kernel) + 47s (userspace) = 50s\n';
  const consoleText = 'labos-template: released (release disk found at uptime 17.250 s, 1.4 s ago)\n';
  const p = buildProfile(out, consoleText, 32_000);
  t.is(p.templateAtMs, 17_250);
  t.is(p.preKernelMs, -18_000, 'the kernel started in the template, before this QEMU');
  t.deepEqual(p.errors, []);
  const booted = buildProfile(out, '', 60_000);
  t.is(booted.templateAtMs, undefined);
  t.is(booted.preKernelMs, 10_000);
  t.deepEqual(booted.errors, ['no kernel stamps on the console']);
});
