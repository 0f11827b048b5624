import type { CatalogEntry } from '../images/catalog.js';
import { LabError } from '../util/errors.js';
import { SPEC2_VERSIONS, SPEC3_VERSIONS, TRANSLATED_VERSION, translateIgnition2to3 } from './ignition2to3.js';
import { showPath } from './jsonpos.js';
import type { GuestUnit } from './units.js';

interface IgnitionFile {
  path: string;
  mode?: number;
  overwrite?: boolean;
  filesystem?: string;
  contents?: { source?: string };
}
interface IgnitionJson {
  ignition?: { version?: string };
  passwd?: { users?: Array<{ name: string; sshAuthorizedKeys?: string[] }> };
  storage?: { files?: IgnitionFile[] };
  systemd?: { units?: Array<{ name: string; enable?: boolean; enabled?: boolean; contents?: string }> };
  networkd?: { units?: Array<{ name: string; contents?: string }> };
}

/** Whether a node config is Ignition JSON (else it is a #cloud-config). */
export function isIgnition(config: string): boolean {
  return config.trimStart().startsWith('{');
}

/**
 * An Ignition config the lab edits before it goes through fw_cfg: the one place its additions
 * are made (the image user's SSH key, the hostname when the config sets none, networkd files,
 * units), for spec 2.x and 3.x alike. For an image whose Ignition reads 3.x only (catalog
 * ignition_spec: 3), a 2.x config is first translated to 3.3.0 (ignition2to3.ts), and the
 * additions go into the translation.
 */
export class IgnitionConfig {
  private constructor(private ign: IgnitionJson & { ignition: { version: string } }) {}

  static parse(json: string): IgnitionConfig {
    let ign: IgnitionJson;
    try {
      ign = JSON.parse(json) as IgnitionJson;
    } catch (err) {
      throw new LabError(`the node's Ignition config is not valid JSON: ${(err as Error).message}`, { fix: 'check it with a JSON linter; Ignition configs are JSON, not YAML' });
    }
    if (typeof ign?.ignition?.version !== 'string') throw new LabError('the node\'s Ignition config has no ignition.version', { fix: 'add "ignition": { "version": "3.3.0" } (or the 2.x version your image reads)' });
    return new IgnitionConfig(ign as IgnitionJson & { ignition: { version: string } });
  }

  /**
   * The config as the image's Ignition reads it: as written, or (ignition_spec: 3) a 3.x config
   * as written and a 2.x one translated to 3.3.0. What cannot be translated is refused, named
   * by its key (`corelab lint` names its line too); keys Ignition ignores are dropped.
   */
  static forImage(entry: Pick<CatalogEntry, 'name' | 'ignitionSpec'>, json: string): IgnitionConfig {
    const doc = IgnitionConfig.parse(json);
    if (entry.ignitionSpec !== 3) return doc;
    const version = doc.ign.ignition.version;
    if (SPEC3_VERSIONS.includes(version)) return doc;
    if (!SPEC2_VERSIONS.includes(version)) {
      throw new LabError(`${entry.name}'s Ignition reads config spec ${SPEC3_VERSIONS.join(', ')} (and corelab translates ${SPEC2_VERSIONS.join(', ')}); this config says ${version}`, { fix: `set ignition.version to one of those (e.g. "${TRANSLATED_VERSION}")` });
    }
    const t = translateIgnition2to3(doc.ign);
    const errors = t.issues.filter((i) => i.level === 'error');
    if (errors.length) {
      throw new LabError(`the node's Ignition config (spec ${version}) cannot be translated to ${TRANSLATED_VERSION} for ${entry.name}: ${errors.map((e) => e.message).join('; ')}`, {
        fix: errors.map((e) => `${showPath(e.path)}: ${e.fix}`).join('; '),
      });
    }
    return new IgnitionConfig(t.config as unknown as IgnitionJson & { ignition: { version: string } });
  }

  /** Spec 3.x (files have overwrite; 2.x names a filesystem instead). */
  get v3(): boolean {
    return Number(this.ign.ignition.version.split('.')[0]) >= 3;
  }

  private get files(): IgnitionFile[] {
    return ((this.ign.storage ??= {}).files ??= []);
  }

  hasFile(path: RegExp): boolean {
    return this.files.some((f) => path.test(f.path));
  }

  /** Whether the config sets up the network itself: files in /etc/systemd/network, or (2.x) networkd units. */
  hasNetwork(): boolean {
    return this.hasFile(/^\/etc\/systemd\/network\//) || !!this.ign.networkd?.units?.length;
  }

  /** A file the lab adds (mode 0644): on "root" in 2.x, which overwrites; with overwrite in 3.x, which does not by default. */
  addFile(path: string, content: string): void {
    this.files.push({ path, mode: 420, ...(this.v3 ? { overwrite: true } : { filesystem: 'root' }), contents: { source: `data:,${encodeURIComponent(content)}` } });
  }

  /** The key in the user's sshAuthorizedKeys (the user is added when the config has none of that name). */
  addUserKey(user: string, key: string): void {
    const users = ((this.ign.passwd ??= {}).users ??= []);
    let u = users.find((x) => x.name === user);
    if (!u) users.push((u = { name: user }));
    u.sshAuthorizedKeys = [...new Set([...(u.sshAuthorizedKeys ?? []), key])];
  }

  /**
   * Merges units into systemd.units: an existing entry gets the contents it lacks, and is enabled
   * (with "enable" in spec 2.0.0, which has no "enabled": its Ignition would ignore that key).
   */
  mergeUnits(units: GuestUnit[]): void {
    if (!units.length) return;
    const list = ((this.ign.systemd ??= {}).units ??= []);
    const key = this.ign.ignition.version.startsWith('2.0.') ? 'enable' : 'enabled';
    for (const u of units) {
      const on = u.enable || !!u.command;
      const existing = list.find((x) => x.name === u.name);
      if (existing) {
        existing.contents ??= u.content;
        if (on) existing[key] ??= true;
      } else list.push({ name: u.name, ...(on ? { [key]: true } : {}), contents: u.content });
    }
  }

  toString(): string {
    return JSON.stringify(this.ign, null, 2) + '\n';
  }
}
