/**
 * What starting a node from a boot template (template.ts) needs on the machine's side, no I/O here:
 * which of its devices the template holds and which arrive by hotplug, and the release disk's text.
 */

/** A boot template on disk: the saved memory, the disk it goes with, the kernel command line it booted. */
export interface BootTemplate {
  key: string;
  /** The image's kernel: the template is pruned once that is gone from the cache. */
  kernel: string;
  state: string;
  disk: string;
  cmdline: string;
}

/** A -device option as QMP device_add takes it. */
export type DeviceProps = Record<string, string>;

/**
 * Splits a node's QEMU arguments for a start from a boot template: the template holds the rng and
 * the node's own disk (drive "root"); every other -device (NICs, config drive, extra drives, the
 * release disk) is left out of the command line, its backend kept, and returned for device_add,
 * in command-line order with the release disk last (it lets the guest go on).
 */
export function splitHotplug(args: string[]): { args: string[]; devices: DeviceProps[] } {
  const kept: string[] = [];
  const devices: DeviceProps[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-device' && !inTemplate(args[i + 1])) {
      devices.push(deviceProps(args[++i]));
      continue;
    }
    kept.push(args[i]);
  }
  devices.sort((a, b) => Number(a.serial === RELEASE_SERIAL) - Number(b.serial === RELEASE_SERIAL));
  return { args: kept, devices };
}

export const RELEASE_SERIAL = 'labos-release';

function inTemplate(device: string): boolean {
  const p = deviceProps(device);
  return p.driver === 'virtio-rng-pci' || (p.driver === 'virtio-blk-pci' && p.drive === 'root');
}

/** "driver,key=value,..." (no commas in values: paths live in the backends) as device_add properties. */
export function deviceProps(device: string): DeviceProps {
  const [driver, ...rest] = device.split(',');
  const props: DeviceProps = { driver };
  for (const kv of rest) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`device option without a value: ${kv} in ${device}`);
    props[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return props;
}

/** The guest's name of a root-bus PCI slot given as QEMU's addr= ("0x3" -> 0000:00:03.0). */
export function guestPciAddr(addr: string): string {
  const slot = Number(addr);
  if (!Number.isInteger(slot) || slot < 0 || slot > 31) throw new Error(`not a PCI slot: ${addr}`);
  return `0000:00:${slot.toString(16).padStart(2, '0')}.0`;
}

/**
 * The release disk's content (read by images/labos/files/usr/lib/labos/template-hold): key=value
 * lines, NUL-padded to 4 KiB.
 */
export function releaseData(r: { time: number; machineId: string; seed: string; pci: string[] }): Buffer {
  const text = [`time=${r.time.toFixed(3)}`, `machine_id=${r.machineId}`, `seed=${r.seed}`, `pci=${r.pci.map(guestPciAddr).join(' ')}`, ''].join('\n');
  const buf = Buffer.alloc(4096);
  if (buf.write(text) >= 4096) throw new Error('release data does not fit in 4 KiB');
  return buf;
}
