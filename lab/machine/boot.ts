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
 * The boot and storage part of the QEMU command line. For labos it is exactly what Machine has
 * always passed (kernel, initrd, append, overlay, config drive, extra drives), so QEMU migration
 * streams saved before keep matching the devices. A node whose Ignition config comes by fw_cfg boots
 * the Ignition initramfs; any other boots the plain one when the image has it.
 */
export function bootArgs(b: BootSpec, d: NodeDevices): string[] {
  const initrd = b.kernel && (d.fwCfg ? b.kernel.initrd : b.kernel.plainInitrd ?? b.kernel.initrd);
  return [
    ...(b.kernel ? ['-kernel', b.kernel.kernel, '-initrd', initrd!, '-append', b.kernel.cmdline] : []),
    '-drive', `if=virtio,file=${qemuOpt(d.overlay)},format=qcow2,cache=unsafe,discard=unmap`,
    ...(d.configDrive ? ['-drive', `if=virtio,file=${qemuOpt(d.configDrive)},format=raw,readonly=on`] : []),
    ...(d.extraDrives ?? []).flatMap((x) => ['-drive', `if=virtio,file=${qemuOpt(x)},format=raw,readonly=on`]),
    ...(b.cdrom ? ['-drive', `if=ide,media=cdrom,file=${qemuOpt(b.cdrom)},format=raw,readonly=on`] : []),
    ...(!b.kernel && 'blankGiB' in b.disk ? ['-boot', 'order=d'] : []),
    ...(d.fwCfg ? fwCfgArgs(d.fwCfg.name, d.fwCfg.file) : []),
  ];
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
