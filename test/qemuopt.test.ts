import test from 'ava';
import { qemuOpt } from '../lab/util/qemuopt.js';
import { bootArgs, labosBoot } from '../lab/machine/boot.js';
import { Machine } from '../lab/machine/machine.js';
import { nodeNetArgs, type Switch } from '../lab/host/switch.js';
import { fwCfgArgs } from '../lab/machine/boot.js';
import type { ImageFiles } from '../lab/images/store.js';

test('qemuOpt doubles every comma and leaves other values as they are', (t) => {
  t.is(qemuOpt('/tmp/a,format=raw'), '/tmp/a,,format=raw');
  t.is(qemuOpt(',,'), ',,,,');
  t.is(qemuOpt('/lab/node00/disk.qcow2'), '/lab/node00/disk.qcow2');
  t.is(qemuOpt(''), '');
});

/** Splits a QEMU option string as QEMU does: at single commas, ",," being a literal comma. */
function qemuSplit(opt: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < opt.length; i++) {
    if (opt[i] === ',' && opt[i + 1] === ',') { cur += ','; i++; } else if (opt[i] === ',') { out.push(cur); cur = ''; } else cur += opt[i];
  }
  return [...out, cur];
}

const img = (dir: string): ImageFiles => ({ name: 'labos', dir, key: 'k', disk: `${dir}/disk.qcow2`, kernel: `${dir}/vmlinuz`, initrd: `${dir}/initrd.img`, plainInitrd: `${dir}/initrd-plain.img`, cmdline: 'console=ttyS0' });

test('a lab folder with commas in it cannot add keys to any QEMU option', (t) => {
  const dir = '/tmp/corelab-x,format=raw,file=/etc/shadow/node,00';
  const sw = { dir: `${dir}/switch,sock=/evil` } as unknown as Switch;
  const m = new Machine({
    name: 'node,00', dir, boot: labosBoot(img(dir)), memoryMb: 512, cpus: 1, accel: 'tcg',
    configDrive: `${dir}/cidata.iso`, extraDrives: [`${dir}/artifacts,x.iso`], fwCfg: { name: 'opt/a,b', file: `${dir}/ign,ition.json` },
    netArgs: nodeNetArgs(sw, '52:54:00:01:00:00', '52:54:00:01:01:00', { hostPort: 2222, guestPort: 22 }, []),
  });
  const args = m.qemuArgs();
  const optionOf = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
  const keys = (opt: string) => qemuSplit(opt).map((kv) => kv.split('=')[0]);
  for (const d of optionOf('-drive')) t.deepEqual(keys(d).filter((k) => k === 'file' || k === 'format').length, 2, d);
  t.true(optionOf('-drive').every((d) => qemuSplit(d).find((kv) => kv.startsWith('file='))!.startsWith(`file=${dir}`)));
  t.deepEqual(keys(optionOf('-chardev')[0]), ['file', 'id', 'path', 'append']);
  t.is(qemuSplit(optionOf('-chardev')[0])[2], `path=${dir}/console.log`);
  t.deepEqual(qemuSplit(optionOf('-qmp')[0]), [`unix:${dir}/qmp.sock`, 'server=on', 'wait=off']);
  t.deepEqual(qemuSplit(optionOf('-netdev')[0]), ['vde', 'id=lan', `sock=${dir}/switch,sock=/evil`]);
  t.deepEqual(qemuSplit(optionOf('-fw_cfg')[0]), ['name=opt/a,b', `file=${dir}/ign,ition.json`]);
  t.deepEqual(qemuSplit(optionOf('-name')[0]), ['node,00']);
  t.true(optionOf('-drive')[0].includes('corelab-x,,format=raw,,file=/etc/shadow/node,,00/disk.qcow2'));
});

test('normal paths: the labos QEMU argument list is exactly the unescaped one', (t) => {
  const sw = { dir: '/lab/switch' } as unknown as Switch;
  const net = nodeNetArgs(sw, '52:54:00:01:00:00', '52:54:00:01:01:00', { hostPort: 2222, guestPort: 22 }, [{ name: 'd', guestAddr: '10.0.2.100', guestPort: 2379, hostPort: 4001 }], [{ guestPort: 80, hostPort: 8080 }]);
  t.deepEqual(net, [
    '-netdev', 'vde,id=lan,sock=/lab/switch',
    '-device', 'virtio-net-pci,netdev=lan,mac=52:54:00:01:00:00,addr=0x3',
    '-netdev', 'user,id=host,restrict=on,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:8080-:80,guestfwd=tcp:10.0.2.100:2379-cmd:socat - TCP:127.0.0.1:4001',
    '-device', 'virtio-net-pci,netdev=host,mac=52:54:00:01:01:00,addr=0x4',
  ]);
  const m = new Machine({ name: 'node00', dir: '/lab/node00', boot: labosBoot(img('/c/labos')), memoryMb: 1024, cpus: 2, accel: 'tcg', configDrive: '/lab/node00/cidata.iso', extraDrives: ['/lab/artifacts.iso'], netArgs: net });
  t.deepEqual(m.qemuArgs(), [
    'qemu-system-x86_64', '-name', 'node00', '-machine', 'pc', '-accel', 'tcg,tb-size=256', '-m', '1024', '-smp', '2',
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-chardev', 'file,id=console,path=/lab/node00/console.log,append=on', '-serial', 'chardev:console',
    '-kernel', '/c/labos/vmlinuz', '-initrd', '/c/labos/initrd-plain.img', '-append', 'console=ttyS0',
    '-drive', 'if=none,id=root,file=/lab/node00/disk.qcow2,format=qcow2,cache=unsafe,discard=unmap', '-device', 'virtio-blk-pci,drive=root,addr=0x5',
    '-drive', 'if=none,id=drive1,file=/lab/node00/cidata.iso,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=drive1,addr=0x6',
    '-drive', 'if=none,id=drive2,file=/lab/artifacts.iso,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=drive2,addr=0x7',
    '-drive', 'if=none,id=release,file=/lab/node00/release.img,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=release,serial=labos-release,addr=0x1f',
    '-device', 'virtio-rng-pci,addr=0x2',
    ...net,
    '-qmp', 'unix:/lab/node00/qmp.sock,server=on,wait=off',
  ]);
  t.deepEqual(bootArgs(labosBoot(img('/c/labos')), { overlay: '/n/d.qcow2', fwCfg: { name: 'opt/x', file: '/n/i.json' } }).slice(-2), ['-fw_cfg', 'name=opt/x,file=/n/i.json']);
  t.deepEqual(fwCfgArgs('opt/org.flatcar-linux/config', '/lab/node00/ignition.json'), ['-fw_cfg', 'name=opt/org.flatcar-linux/config,file=/lab/node00/ignition.json']);
});

test('the SSH forward goes to the guest port the node\'s sshd listens on', (t) => {
  const sw = { dir: '/lab/switch' } as unknown as Switch;
  const user = nodeNetArgs(sw, '52:54:00:01:00:00', '52:54:00:01:01:00', { hostPort: 40022, guestPort: 2345 }, [])[5];
  t.deepEqual(qemuSplit(user).filter((kv) => kv.startsWith('hostfwd=')), ['hostfwd=tcp:127.0.0.1:40022-:2345']);
});
