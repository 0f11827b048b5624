import type { CatalogEntry } from '../images/catalog.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIso, configDriveFiles, type DriveKind, type NodeIdentity } from './configdrive.js';
import { LabError } from '../util/errors.js';
import { qemuOpt } from '../util/qemuopt.js';

/**
 * How one node's config reaches its image: a config drive (config-2 or cidata) for a cloud-config,
 * or Ignition through QEMU's fw_cfg for an Ignition JSON on images that take it (Flatcar). Never both:
 * Flatcar's coreos-cloudinit is skipped when Ignition got a config.
 */
export type Delivery =
  | { kind: 'drive'; drive: DriveKind; label: string; files: Record<string, string> }
  | { kind: 'fw_cfg'; name: string; content: string };

export function isIgnition(config: string): boolean {
  return config.trimStart().startsWith('{');
}

export function deliveryFor(entry: CatalogEntry, config: string, id: NodeIdentity, preferred?: DriveKind): Delivery {
  if (isIgnition(config)) {
    if (!entry.config.includes('ignition-fw_cfg') || !entry.fwCfgName) {
      throw new LabError(`${entry.name} does not read Ignition configs; give its nodes a #cloud-config`, { fix: `it takes: ${entry.config.join(', ')}` });
    }
    return { kind: 'fw_cfg', name: entry.fwCfgName, content: withLabKey(config, entry.user, id) };
  }
  const drives = entry.config.filter((c): c is DriveKind => c === 'config-2' || c === 'cidata');
  const drive = preferred && drives.includes(preferred) ? preferred : drives[0];
  if (!drive) throw new LabError(`${entry.name} reads only Ignition configs; give its nodes an Ignition JSON`);
  return { kind: 'drive', drive, label: drive, files: configDriveFiles(drive, config, id) };
}

/**
 * The Ignition config with the lab's SSH key added to the image's user (and the hostname set when
 * the config does not set one), so the lab can drive the node. Spec 2.x and 3.x both have passwd.users.
 */
function withLabKey(json: string, user: string, id: NodeIdentity): string {
  let ign: { ignition?: { version?: string }; passwd?: { users?: Array<{ name: string; sshAuthorizedKeys?: string[] }> }; storage?: { files?: Array<Record<string, unknown>> } };
  try {
    ign = JSON.parse(json);
  } catch (err) {
    throw new LabError(`the node's Ignition config is not valid JSON: ${(err as Error).message}`, { fix: 'check it with a JSON linter; Ignition configs are JSON, not YAML' });
  }
  if (!ign.ignition?.version) throw new LabError('the node\'s Ignition config has no ignition.version', { fix: 'add "ignition": { "version": "3.3.0" } (or the 2.x version your image reads)' });
  ign.passwd ??= {};
  ign.passwd.users ??= [];
  let u = ign.passwd.users.find((x) => x.name === user);
  if (!u) ign.passwd.users.push((u = { name: user }));
  u.sshAuthorizedKeys = [...new Set([...(u.sshAuthorizedKeys ?? []), id.sshPublicKey])];
  const files = (ign.storage ??= {}).files ??= [];
  if (!files.some((f) => f.path === '/etc/hostname')) {
    const v3 = Number(ign.ignition.version.split('.')[0]) >= 3;
    files.push({ path: '/etc/hostname', mode: 420, ...(v3 ? { overwrite: true } : { filesystem: 'root' }), contents: { source: `data:,${encodeURIComponent(id.hostname)}` } });
  }
  return JSON.stringify(ign, null, 2) + '\n';
}

/** QEMU's argument that hands the guest a file under a fw_cfg name. */
export function fwCfgArgs(name: string, file: string): string[] {
  return ['-fw_cfg', `name=${qemuOpt(name)},file=${qemuOpt(file)}`];
}

/**
 * Puts a delivery into the node's folder: the config drive ISO (<drive>.iso), or the Ignition
 * file (ignition.json) for fw_cfg. What Machine gets: one or the other, never both.
 */
/** Where a node's config went: the drive QEMU attaches, or the file it hands over by fw_cfg. */
export interface Delivered {
  configDrive?: string;
  fwCfg?: { name: string; file: string };
}

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
