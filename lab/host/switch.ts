import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from './proc.js';
import { LabError } from '../util/errors.js';
import { qemuOpt } from '../util/qemuopt.js';
import { NotYet, waitUntil } from '../util/poll.js';

/** A port on the host (127.0.0.1) that guests reach at guestAddr:guestPort through QEMU user-mode networking. */
export interface GuestForward {
  name: string;
  guestAddr: string;
  guestPort: number;
  hostPort: number;
}

/** Where guests find the lab's host services on their user-mode NIC (eth1). */
export const HOST_SERVICES_ADDR = '10.0.2.100';

/** The lab's private L2 segment: one vde_switch, no root needed. */
export class Switch {
  private constructor(readonly dir: string, private daemon: Daemon) {}

  static async start(labDir: string): Promise<Switch> {
    const dir = join(labDir, 'switch');
    const d = Daemon.start('vde_switch', ['vde_switch', '--sock', dir], join(labDir, 'vde_switch.log'));
    try {
      await waitUntil('vde_switch to open its socket', async () => {
        if (!d.running) throw new LabError('vde_switch exited');
        if (!existsSync(join(dir, 'ctl'))) throw new NotYet('no ctl socket yet');
      }, { timeoutMs: 5000, intervalMs: 50 });
    } catch (err) {
      d.kill();
      throw new LabError(`vde_switch did not start (see ${join(labDir, 'vde_switch.log')}): ${(err as Error).message.split('\n')[0]}`, { fix: 'check that the vde2 package is installed and the lab dir is writable', cause: err });
    }
    return new Switch(dir, d);
  }

  get running(): boolean {
    return this.daemon.running;
  }

  stop(): Promise<void> {
    return this.daemon.stop(2000);
  }
}

/** A host port on 127.0.0.1 forwarded to a guest port (SSH, a node's `ports:`). */
export interface HostForward {
  hostPort: number;
  guestPort: number;
}

/**
 * QEMU arguments for a node's two NICs: eth0 on the lab switch (its static address comes from the
 * config drive), eth1 in user mode with restrict=on, so the guest reaches nothing but the host ports
 * forwarded here (SSH in, to the port the guest's sshd listens on; host services out). Their PCI
 * slots (3 and 4) are the ones QEMU gave them when it placed them itself, written out so a node
 * that gets them by hotplug has the same layout (machine/boot.ts SLOT).
 */
export function nodeNetArgs(sw: Switch, lanMac: string, hostMac: string, ssh: HostForward, forwards: GuestForward[], published: HostForward[] = []): string[] {
  const user = ['user', 'id=host', 'restrict=on', 'net=10.0.2.0/24', `hostfwd=tcp:127.0.0.1:${ssh.hostPort}-:${ssh.guestPort}`];
  for (const p of published) user.push(`hostfwd=tcp:127.0.0.1:${p.hostPort}-:${p.guestPort}`);
  for (const f of forwards) user.push(`guestfwd=tcp:${f.guestAddr}:${f.guestPort}-cmd:socat - TCP:127.0.0.1:${f.hostPort}`);
  return [
    '-netdev', `vde,id=lan,sock=${qemuOpt(sw.dir)}`,
    '-device', `virtio-net-pci,netdev=lan,mac=${lanMac},addr=0x3`,
    '-netdev', user.join(','),
    '-device', `virtio-net-pci,netdev=host,mac=${hostMac},addr=0x4`,
  ];
}

/** Deterministic MACs: lab byte, NIC (0 = lan, 1 = host), node index. */
export function macFor(labByte: number, nic: 0 | 1, index: number): string {
  return ['52', '54', '00', hex(labByte), hex(nic), hex(index)].join(':');
}

function hex(n: number): string {
  return (n & 255).toString(16).padStart(2, '0');
}
