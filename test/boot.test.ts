import test from 'ava';
import { execa } from 'execa';
import { join } from 'node:path';
import { loadCatalog } from '../lab/images/catalog.js';
import { bootArgs, diskCreateArgs, labosBoot, nodeMemory, pulledBoot } from '../lab/machine/boot.js';
import { Machine } from '../lab/machine/machine.js';
import type { ImageFiles } from '../lab/images/store.js';
import { tempTree } from './helpers/files.js';

const catalog = loadCatalog();
const labos: ImageFiles = { name: 'labos', dir: '/c/labos', key: 'k', disk: '/c/labos/disk.qcow2', kernel: '/c/labos/vmlinuz', initrd: '/c/labos/initrd.img', plainInitrd: '/c/labos/initrd-plain.img', cmdline: 'root=/dev/vda console=ttyS0' };
const net = ['-netdev', 'vde,id=lan,sock=/sw', '-device', 'virtio-net-pci,netdev=lan,mac=52:54:00:01:00:00'];

test('labos: the QEMU command line, each device in a written-out PCI slot, the release disk in the last', (t) => {
  const m = new Machine({ name: 'node00', dir: '/lab/node00', boot: labosBoot(labos), memoryMb: 1024, cpus: 2, accel: 'tcg', configDrive: '/lab/node00/cidata.iso', extraDrives: ['/lab/artifacts.iso'], netArgs: net });
  t.deepEqual(m.qemuArgs(), [
    'qemu-system-x86_64', '-name', 'node00', '-machine', 'pc', '-accel', 'tcg,tb-size=256', '-m', '1024', '-smp', '2',
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-chardev', 'file,id=console,path=/lab/node00/console.log,append=on', '-serial', 'chardev:console',
    '-kernel', '/c/labos/vmlinuz', '-initrd', '/c/labos/initrd-plain.img', '-append', 'root=/dev/vda console=ttyS0',
    '-drive', 'if=none,id=root,file=/lab/node00/disk.qcow2,format=qcow2,cache=unsafe,discard=unmap', '-device', 'virtio-blk-pci,drive=root,addr=0x5',
    '-drive', 'if=none,id=drive1,file=/lab/node00/cidata.iso,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=drive1,addr=0x6',
    '-drive', 'if=none,id=drive2,file=/lab/artifacts.iso,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=drive2,addr=0x7',
    '-drive', 'if=none,id=release,file=/lab/node00/release.img,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=release,serial=labos-release,addr=0x1f',
    '-device', 'virtio-rng-pci,addr=0x2',
    ...net,
    '-qmp', 'unix:/lab/node00/qmp.sock,server=on,wait=off',
  ]);
  t.deepEqual(diskCreateArgs(labosBoot(labos), '/lab/node00/disk.qcow2'), ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', '/c/labos/disk.qcow2', '/lab/node00/disk.qcow2']);
  const tpl = new Machine({ name: 't', dir: '/t', boot: labosBoot(labos), memoryMb: 1024, cpus: 2, accel: 'tcg', netArgs: [], makingTemplate: true });
  t.false(tpl.qemuArgs().join(' ').includes('release'), 'a template being made has no release disk');
});

/** The slot of each PCI device QEMU (started paused, no guest) reports for this device list. */
async function pciSlots(dir: string, devices: string[]): Promise<string[]> {
  const sock = join(dir, `q${Math.random().toString(36).slice(2)}.sock`);
  const q = execa('qemu-system-x86_64', ['-machine', 'pc', '-accel', 'tcg', '-m', '128', '-nodefaults', '-no-user-config', '-display', 'none', '-S', ...devices, '-qmp', `unix:${sock},server=on,wait=off`], { reject: false });
  try {
    const { Qmp } = await import('../lab/machine/qmp.js');
    let qmp;
    for (let i = 0; i < 100 && !qmp; i++) qmp = await Qmp.connect(sock).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)));
    const pci = await qmp!.execute<Array<{ devices: Array<{ slot: number; id: { device: number }; qdev_id: string }> }>>('query-pci');
    await qmp!.execute('quit').catch(() => undefined);
    return pci[0].devices.filter((d) => d.slot >= 2).map((d) => `${d.slot}:${d.id.device.toString(16)}`);
  } finally {
    q.kill('SIGKILL');
    await q;
  }
}

test('the written-out PCI slots are the ones QEMU gave the same devices itself, so checkpoints saved before still load', async (t) => {
  const tree = tempTree({ 'cidata.iso': 'x'.repeat(4096), 'artifacts.iso': 'x'.repeat(4096) });
  t.teardown(tree.remove);
  const dir = tree.dir;
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '1G']);
  const netdevs = ['-netdev', 'user,id=lan', '-netdev', 'user,id=host'];
  const nics = ['-device', 'virtio-net-pci,netdev=lan,mac=52:54:00:01:00:00', '-device', 'virtio-net-pci,netdev=host,mac=52:54:00:01:01:00'];
  // The command line before the slots were written out: QEMU placed everything itself.
  const before = await pciSlots(dir, [
    '-drive', `if=virtio,file=${join(dir, 'disk.qcow2')},format=qcow2`, '-drive', `if=virtio,file=${join(dir, 'cidata.iso')},format=raw,readonly=on`, '-drive', `if=virtio,file=${join(dir, 'artifacts.iso')},format=raw,readonly=on`,
    '-device', 'virtio-rng-pci', ...netdevs, ...nics,
  ]);
  const { nodeNetArgs } = await import('../lab/host/switch.js');
  const now = bootArgs(labosBoot(labos), { overlay: join(dir, 'disk.qcow2'), configDrive: join(dir, 'cidata.iso'), extraDrives: [join(dir, 'artifacts.iso')] }).slice(6);
  const netNow = nodeNetArgs({ dir: '/x' } as never, '52:54:00:01:00:00', '52:54:00:01:01:00', { hostPort: 1, guestPort: 22 }, []).filter((_, i, a) => a[i - 1] === '-device' || a[i] === '-device');
  const after = await pciSlots(dir, [...now, '-device', 'virtio-rng-pci,addr=0x2', ...netdevs, ...netNow]);
  t.deepEqual(after, before);
  t.deepEqual(before, ['2:1005', '3:1000', '4:1000', '5:1001', '6:1001', '7:1001']);
});

test('labos: a node with an Ignition config by fw_cfg boots the Ignition initramfs, any other the plain one', (t) => {
  const initrd = (d: { fwCfg?: { name: string; file: string } }) => {
    const args = bootArgs(labosBoot(labos), { overlay: '/n/disk.qcow2', ...d });
    return args[args.indexOf('-initrd') + 1];
  };
  t.is(initrd({ fwCfg: { name: 'opt/com.coreos/config', file: '/n/ignition.json' } }), '/c/labos/initrd.img');
  t.is(initrd({}), '/c/labos/initrd-plain.img');
  const { plainInitrd: _, ...older } = labos;
  t.is(bootArgs(labosBoot({ ...older, plainInitrd: undefined as unknown as string }), { overlay: '/n/d' })[3], '/c/labos/initrd.img', 'an image with one initramfs boots it for every node');
});

test('Flatcar: the BIOS boots an overlay of the qcow2, no -kernel; Ignition by fw_cfg and no config drive', (t) => {
  const b = pulledBoot(catalog.get('flatcar-stable')!, { disk: '/c/blob/flatcar' });
  t.is(b.kernel, undefined);
  t.is(b.machine, 'q35', 'the machine type flatcar_production_qemu.sh and kola use');
  const m = new Machine({ name: 'f', dir: '/n', boot: b, memoryMb: 2048, cpus: 2, accel: 'tcg', netArgs: [] });
  t.deepEqual(m.qemuArgs().slice(3, 5), ['-machine', 'q35']);
  t.is(pulledBoot(catalog.get('rancheros-1.5.8')!, { kernel: '/k', initrd: '/i' }).machine, 'pc');
  t.deepEqual(b.disk, { base: '/c/blob/flatcar' });
  const args = bootArgs(b, { overlay: '/n/disk.qcow2', fwCfg: { name: 'opt/org.flatcar-linux/config', file: '/n/ignition.json' } });
  t.deepEqual(args, [
    '-drive', 'if=none,id=root,file=/n/disk.qcow2,format=qcow2,cache=unsafe,discard=unmap', '-device', 'virtio-blk-pci,drive=root,addr=0x5',
    '-fw_cfg', 'name=opt/org.flatcar-linux/config,file=/n/ignition.json',
  ]);
  const withDrive = bootArgs(b, { overlay: '/n/disk.qcow2', configDrive: '/n/config-2.iso', extraDrives: ['/lab/artifacts.iso'] });
  t.false(withDrive.includes('-kernel'));
  t.false(withDrive.includes('-fw_cfg'));
  t.deepEqual(withDrive.filter((a) => a.startsWith('if=none')).map((a) => a.split(',')[2]), ['file=/n/disk.qcow2', 'file=/n/config-2.iso', 'file=/lab/artifacts.iso']);
  t.deepEqual(diskCreateArgs(b, '/n/disk.qcow2'), ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', '/c/blob/flatcar', '/n/disk.qcow2']);
});

test('RancherOS: the catalog kernel, initrd and cmdline, a blank state disk as /dev/vda, no ISO', (t) => {
  const entry = catalog.get('rancheros-1.5.8')!;
  const b = pulledBoot(entry, { kernel: '/c/vmlinuz', initrd: '/c/initrd' });
  t.deepEqual(b.kernel, { kernel: '/c/vmlinuz', initrd: '/c/initrd', cmdline: entry.cmdline! });
  t.regex(entry.cmdline!, /rancher\.state\.autoformat=\[\/dev\/vda\]/);
  t.deepEqual(b.disk, { blankGiB: 10 });
  const args = bootArgs(b, { overlay: '/n/disk.qcow2', configDrive: '/n/config-2.iso' });
  t.deepEqual(args.slice(0, 6), ['-kernel', '/c/vmlinuz', '-initrd', '/c/initrd', '-append', entry.cmdline!]);
  t.is(args[7], 'if=none,id=root,file=/n/disk.qcow2,format=qcow2,cache=unsafe,discard=unmap', 'the state disk is the first virtio disk: /dev/vda');
  t.is(args[9], 'virtio-blk-pci,drive=root,addr=0x5');
  t.false(args.some((a) => /cdrom/.test(a)));
  t.deepEqual(diskCreateArgs(b, '/n/disk.qcow2'), ['create', '-q', '-f', 'qcow2', '/n/disk.qcow2', '10G']);
  // An entry with an ISO gets it as a CD-ROM; one that boots a kernel without a kernel file is refused.
  t.regex(bootArgs(pulledBoot(entry, { kernel: '/k', initrd: '/i', iso: '/c/ros.iso' }), { overlay: '/d' }).join(' '), /-drive if=ide,media=cdrom,file=\/c\/ros\.iso/);
  t.throws(() => pulledBoot(entry, { initrd: '/i' }), { message: /boots from its kernel/ });
});

test('the blank state disk qemu-img makes is an empty qcow2 of that size', async (t) => {
  const dir = tempTree({});
  t.teardown(dir.remove);
  const disk = join(dir.dir, 'disk.qcow2');
  await execa('qemu-img', diskCreateArgs(pulledBoot(catalog.get('rancheros-1.5.8')!, { kernel: '/k', initrd: '/i' }), disk));
  const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', disk])).stdout);
  t.is(info.format, 'qcow2');
  t.is(info['virtual-size'], 10 * 2 ** 30);
  t.is(info['backing-filename'], undefined);
});

test('memory is raised to the image minimum, never lowered', (t) => {
  t.deepEqual(nodeMemory(catalog.get('flatcar-stable')!, 1024), { memoryMb: 2048, raisedFrom: 1024 });
  t.deepEqual(nodeMemory(catalog.get('flatcar-stable')!, 3072), { memoryMb: 3072 });
  t.deepEqual(nodeMemory(catalog.get('labos')!, 1024), { memoryMb: 1024 });
});
