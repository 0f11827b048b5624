import type { CatalogEntry } from '../images/catalog.js';
import { LabError } from '../util/errors.js';
import { qemuOpt } from '../util/qemuopt.js';
import type { ImageFiles } from '../images/store.js';

/**
 * How a node of an image boots, decided from the image alone (no I/O here): direct kernel boot
 * (labos, RancherOS) or the BIOS booting the node's disk (Flatcar), and what the node's own disk is.
 */
export interface BootSpec {
  /** The catalog entry's name, for messages. */
  image: string;
  /**
   * Direct kernel boot; absent: the BIOS boots the node's disk (or the CD-ROM when there is no disk
   * image). plainInitrd (labos): the initramfs of a node that gets no Ignition config by fw_cfg.
   */
  kernel?: { kernel: string; initrd: string; cmdline: string; plainInitrd?: string };
  /**
   * The node's own first disk (/dev/vda): a qcow2 overlay on the image's disk, or a blank qcow2 of
   * blankGiB (RancherOS formats it as its state disk: rancher.state.autoformat=[/dev/vda]).
   */
  disk: { base: string } | { blankGiB: number };
  /** A read-only ISO attached as a CD-ROM (an entry whose files include role iso). */
  cdrom?: string;
  /** QEMU's machine type (pc when not given). */
  machine?: 'pc' | 'q35';
}

/** The node's other devices, which Machine knows. */
export interface NodeDevices {
  /** The node's qcow2 (overlay or blank state disk). */
  overlay: string;
  /** The config drive ISO, when the config goes on a drive. */
  configDrive?: string;
  /** More read-only drives (the artifacts ISO). */
  extraDrives?: string[];
  /** An Ignition config handed over by fw_cfg, when it does not go on a drive. */
  fwCfg?: { name: string; file: string };
}

/** Size of the blank state disk a node gets when its image has no disk image of its own. */
export const BLANK_DISK_GIB = 10;

/**
 * labos: its kernel, its two initramfs images (Ignition's, and the busybox one for nodes without an
 * Ignition config, which skips ~19 s of systemd-in-initrd under TCG) and command line, and an
 * overlay on its disk (as ever).
 */
export function labosBoot(img: ImageFiles): BootSpec {
  return { image: img.name, kernel: { kernel: img.kernel, initrd: img.initrd, cmdline: img.cmdline, plainInitrd: img.plainInitrd }, disk: { base: img.disk } };
}

/**
 * A downloaded image from its cached files by role. boot: kernel takes the kernel and initrd files
 * and the entry's cmdline; with no disk file the node gets a blank state disk. boot: disk needs a
 * disk file (the BIOS boots an overlay on it), or an iso to boot from with a blank disk.
 */
export function pulledBoot(entry: CatalogEntry, files: Record<string, string>): BootSpec {
  const need = (role: string): string => {
    const f = files[role];
    if (!f) throw new LabError(`image ${entry.name} boots from its ${role}, but its catalog entry has no file with role ${role}`, { fix: `add files: { ${role}: { url: ... } } to ${entry.name} in images/catalog.yaml` });
    return f;
  };
  const cdrom = files.iso;
  if (entry.boot === 'kernel') {
    if (!entry.cmdline) throw new LabError(`image ${entry.name} boots a kernel directly but has no cmdline`, { fix: `add cmdline: to ${entry.name} in images/catalog.yaml` });
    return {
      image: entry.name,
      machine: entry.machine,
      kernel: { kernel: need('kernel'), initrd: need('initrd'), cmdline: entry.cmdline },
      disk: files.disk && entry.format === 'qcow2' ? { base: files.disk } : { blankGiB: BLANK_DISK_GIB },
      cdrom,
    };
  }
  if (files.disk) return { image: entry.name, machine: entry.machine, disk: { base: files.disk }, cdrom };
  return { image: entry.name, machine: entry.machine, disk: { blankGiB: BLANK_DISK_GIB }, cdrom: need('iso') };
}

/**
 * PCI slots of a node's devices, written out: the slots QEMU gave them when it placed them itself
 * (the rng, the two NICs, then the virtio drives in order), so checkpoints saved before still match.
 * A node started from a boot template (template.ts) gets its NICs and drives by hotplug; fixed
 * slots give it the same layout as a booted node, so a checkpoint of either restores on one
 * command line. The release disk (labos) sits apart in the last slot.
 */
export const SLOT = { rng: 2, firstDrive: 5, release: 0x1f } as const;

/** QEMU's addr= for a slot on the pc machine's root bus. */
export function pciAddr(slot: number): string {
  return `0x${slot.toString(16)}`;
}

/**
 * The boot and storage part of the QEMU command line: kernel, initrd, append, then the overlay, the
 * config drive and the extra drives as virtio disks in fixed slots (as QEMU placed them before).
 * A node whose Ignition config comes by fw_cfg boots the Ignition initramfs; any other boots the
 * plain one when the image has it. release: the labos release disk (template.ts), read only by a
 * VM started from a boot template; cmdline: the template's command line, when restoring one.
 */
export function bootArgs(b: BootSpec, d: NodeDevices, opts: { release?: string; cmdline?: string } = {}): string[] {
  const initrd = b.kernel && (d.fwCfg ? b.kernel.initrd : b.kernel.plainInitrd ?? b.kernel.initrd);
  const drives = [
    `file=${qemuOpt(d.overlay)},format=qcow2,cache=unsafe,discard=unmap`,
    ...(d.configDrive ? [`file=${qemuOpt(d.configDrive)},format=raw,readonly=on`] : []),
    ...(d.extraDrives ?? []).map((x) => `file=${qemuOpt(x)},format=raw,readonly=on`),
  ];
  return [
    ...(b.kernel ? ['-kernel', b.kernel.kernel, '-initrd', initrd!, '-append', opts.cmdline ?? b.kernel.cmdline] : []),
    ...drives.flatMap((opt, i) => ['-drive', `if=none,id=${driveId(i)},${opt}`, '-device', `virtio-blk-pci,drive=${driveId(i)},addr=${pciAddr(SLOT.firstDrive + i)}`]),
    ...(opts.release ? ['-drive', `if=none,id=release,file=${qemuOpt(opts.release)},format=raw,readonly=on`, '-device', `virtio-blk-pci,drive=release,serial=labos-release,addr=${pciAddr(SLOT.release)}`] : []),
    ...(b.cdrom ? ['-drive', `if=ide,media=cdrom,file=${qemuOpt(b.cdrom)},format=raw,readonly=on`] : []),
    ...(!b.kernel && 'blankGiB' in b.disk ? ['-boot', 'order=d'] : []),
    ...(d.fwCfg ? fwCfgArgs(d.fwCfg.name, d.fwCfg.file) : []),
  ];
}

/** The id of the i-th virtio drive's backend (0: the node's own disk). */
function driveId(i: number): string {
  return i === 0 ? 'root' : `drive${i}`;
}

/** qemu-img arguments that create the node's disk: an overlay on the image, or a blank state disk. */
export function diskCreateArgs(b: BootSpec, overlay: string): string[] {
  if ('base' in b.disk) return ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', b.disk.base, overlay];
  return ['create', '-q', '-f', 'qcow2', overlay, `${b.disk.blankGiB}G`];
}

/**
 * The memory a node gets: what the scenario asks, raised to the image's minimum (Flatcar and
 * RancherOS need 2 GiB; less makes them fail in ways that look like lab bugs). The caller logs a
 * raise, so the scenario author sees it.
 */
export function nodeMemory(entry: CatalogEntry, requestedMb: number): { memoryMb: number; raisedFrom?: number } {
  return requestedMb >= entry.memory ? { memoryMb: requestedMb } : { memoryMb: entry.memory, raisedFrom: requestedMb };
}

/** QEMU's argument that hands the guest a file under a fw_cfg name. */
export function fwCfgArgs(name: string, file: string): string[] {
  return ['-fw_cfg', `name=${qemuOpt(name)},file=${qemuOpt(file)}`];
}
