import type { CatalogEntry } from '../images/catalog.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIso, configDriveFiles, type DriveKind, type NodeIdentity } from './configdrive.js';
import { LabError } from '../util/errors.js';
import { IgnitionConfig, isIgnition } from './ignition.js';

/**
 * How one node's config reaches its image: a config drive (config-2 or cidata) for a cloud-config,
 * or Ignition through QEMU's fw_cfg for an Ignition JSON on images that take it (Flatcar, labos;
 * for labos a 2.x config is translated to 3.3.0, see IgnitionConfig.forImage). Never both:
 * Flatcar's coreos-cloudinit is skipped when Ignition got a config.
 */
export type Delivery =
  | { kind: 'drive'; drive: DriveKind; label: string; files: Record<string, string> }
  | { kind: 'fw_cfg'; name: string; content: string };

export function deliveryFor(entry: CatalogEntry, config: string, id: NodeIdentity, preferred?: DriveKind): Delivery {
  if (isIgnition(config)) {
    if (!entry.config.includes('ignition-fw_cfg') || !entry.fwCfgName) {
      throw new LabError(`${entry.name} does not read Ignition configs; give its nodes a #cloud-config`, { fix: `it takes: ${entry.config.join(', ')}` });
    }
    return { kind: 'fw_cfg', name: entry.fwCfgName, content: IgnitionConfig.forImage(entry, config).toString() };
  }
  const drives = entry.config.filter((c): c is DriveKind => c === 'config-2' || c === 'cidata');
  const drive = preferred && drives.includes(preferred) ? preferred : drives[0];
  if (!drive) throw new LabError(`${entry.name} reads only Ignition configs; give its nodes an Ignition JSON`);
  return { kind: 'drive', drive, label: drive, files: configDriveFiles(drive, config, id) };
}

/** Where a node's config went: the drive QEMU attaches, or the file it hands over by fw_cfg. */
export interface Delivered {
  configDrive?: string;
  fwCfg?: { name: string; file: string };
}

/**
 * Puts a delivery into the node's folder: the config drive ISO (<drive>.iso), or the Ignition
 * file (ignition.json) for fw_cfg. What Machine gets: one or the other, never both.
 */
export async function writeDelivery(d: Delivery, dir: string): Promise<Delivered> {
  if (d.kind === 'drive') {
    const iso = join(dir, `${d.drive}.iso`);
    await buildIso(iso, d.label, d.files);
    return { configDrive: iso };
  }
  const file = join(dir, 'ignition.json');
  writeFileSync(file, d.content, { mode: 0o600 });
  return { fwCfg: { name: d.name, file } };
}
