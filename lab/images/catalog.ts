/**
 * The images layer (lab/images/): what guests boot and what they are handed. The catalog of
 * images (this file), pulling and importing downloaded ones (fetch.ts, digestlist.ts,
 * signingkey.ts), checking them at every use (integrity.ts, filehash.ts), building labos and the
 * nginx container image offline (build.ts, store.ts, aptsources.ts, containerimage.ts) and the
 * artifacts (artifacts.ts: fleet, etcd). It imports download/ and below.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, type Node } from 'yaml';
import { count } from '../util/counters.js';
import { LabError } from '../util/errors.js';
import { PROJECT_DIR } from '../util/paths.js';
import { closest, YamlSource } from '../scenario/yamlsource.js';

/** The catalog of guest images (images/catalog.yaml): what to fetch, how to check it, how it boots. */
export const CATALOG_FILE = join(PROJECT_DIR, 'images', 'catalog.yaml');

import type { Decompress } from '../download/download.js';
export type { Decompress };
export type ConfigDelivery = 'ignition-fw_cfg' | 'config-2' | 'cidata';
/** The program in the guest that reads a #cloud-config: what keys it takes and whether systemd units can be added. */
export type ConfigAgent = 'cloud-init' | 'coreos-cloudinit' | 'rancheros';

export interface CatalogFile {
  /** disk, iso, kernel or initrd. */
  role: string;
  /** URL template; {base} is the entry's base. */
  url: string;
  decompress?: Decompress;
}

export interface CatalogDigests {
  url: string;
  signed: 'clearsigned' | 'detached' | 'none';
  signature?: string;
  /** OpenPGP public key file, absolute (written project-relative in the catalog). */
  key?: string;
  /** The primary key fingerprint (upper-case hex) every key used for this entry must have. */
  keyFingerprint?: string;
  /** Where the publisher serves its current key (a template; {base} allowed), fetched when the key file lacks the signing subkey. */
  keyUrl?: string;
}

export interface CatalogEntry {
  name: string;
  description: string;
  base?: string;
  /** Built locally from images/<build>/ instead of downloaded. */
  build?: string;
  files: CatalogFile[];
  digests?: CatalogDigests;
  format: 'qcow2' | 'iso' | 'kernel+initrd';
  boot: 'disk' | 'kernel';
  cmdline?: string;
  user: string;
  config: ConfigDelivery[];
  fwCfgName?: string;
  /**
   * The Ignition config spec the image's Ignition reads, when it reads only 3.x (ignition_spec: 3,
   * labos's Debian Ignition 2.14): corelab translates a 2.x config to 3.3.0 before it is delivered.
   * Absent: an Ignition config is passed through as written (Flatcar's Ignition reads 2.x itself).
   */
  ignitionSpec?: 3;
  /** Reads the #cloud-config (default cloud-init). */
  agent: ConfigAgent;
  memory: number;
  /** QEMU's machine type: pc (default) or q35 (what flatcar_production_qemu.sh and kola use). */
  machine: 'pc' | 'q35';
}

export type Catalog = Map<string, CatalogEntry>;

const ENTRY_KEYS = ['description', 'base', 'build', 'files', 'digests', 'format', 'boot', 'cmdline', 'user', 'config', 'fw_cfg_name', 'ignition_spec', 'agent', 'memory', 'machine'];
const AGENTS = ['cloud-init', 'coreos-cloudinit', 'rancheros'] as const;
const FORMATS = ['qcow2', 'iso', 'kernel+initrd'] as const;
const BOOTS = ['disk', 'kernel'] as const;
const DELIVERIES = ['ignition-fw_cfg', 'config-2', 'cidata'] as const;
const SIGNED = ['clearsigned', 'detached', 'none'] as const;
const DECOMPRESS = ['bz2', 'xz', 'gz'] as const;
const MACHINES = ['pc', 'q35'] as const;
const ROLES = ['disk', 'iso', 'kernel', 'initrd'];

/** Loads and checks a catalog file; every problem is reported as file:line:col with a fix. */
export function loadCatalog(path = CATALOG_FILE): Catalog {
  count('catalog read');
  if (!existsSync(path)) throw new LabError(`no image catalog at ${path}`, { fix: 'restore images/catalog.yaml from the repository' });
  const src = new YamlSource(path);
  src.throwIfProblems();
  const catalog: Catalog = new Map();
  const top = src.map(src.root, 'the catalog', ['images']);
  const images = top.get('images');
  if (!images) src.problem(src.root, 'the catalog has no "images:" mapping', 'add `images:` with one entry per image');
  for (const { name, key, value } of images ? src.entries(images.value, 'images') : []) {
    const entry = readEntry(src, name, key, value);
    if (entry) catalog.set(name, entry);
  }
  src.throwIfProblems();
  return catalog;
}

function readEntry(src: YamlSource, name: string, keyNode: Node, node: Node | null): CatalogEntry | undefined {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) src.problem(keyNode, `image name "${name}" may use only a-z, 0-9, ".", "_" and "-"`);
  const m = src.map(node, `image ${name}`, ENTRY_KEYS);
  const str = (k: string): string | undefined => (m.has(k) ? src.string(m.get(k)!.value, `${name}.${k}`) : undefined);
  const oneOf = <T extends string>(k: string, allowed: readonly T[]): T | undefined => {
    const v = str(k);
    if (v !== undefined && !allowed.includes(v as T)) src.problem(m.get(k)!.value, `${name}.${k} must be one of ${allowed.join(', ')}`, hint(v, allowed));
    return v as T | undefined;
  };
  const require = (k: string): void => {
    if (!m.has(k)) src.problem(node, `image ${name} has no "${k}"`);
  };
  ['description', 'format', 'boot', 'user', 'config', 'memory'].forEach(require);

  const base = str('base');
  const build = str('build');
  if (base !== undefined && !/^https?:\/\/[^/]+\/.*\/$/.test(base)) src.problem(m.get('base')!.value, `${name}.base must be an http(s) URL ending in "/"`);
  if (!base && !build) src.problem(node, `image ${name} needs either "base" and "files" (downloaded) or "build" (built locally)`);

  const files = m.has('files') ? readFiles(src, m.get('files')!.value, name) : [];
  if (base && files.length === 0) src.problem(node, `image ${name} has a base but no files to fetch`);

  const digests = m.has('digests') ? readDigests(src, m.get('digests')!.value, name) : undefined;
  if (!m.has('digests') && base) src.problem(node, `image ${name} has no "digests": downloads could not be checked`, 'add digests: { url: "{base}SHA256SUMS", signed: none }');

  const config: ConfigDelivery[] = [];
  if (m.has('config')) {
    for (const c of src.seq(m.get('config')!.value, `${name}.config`)) {
      const v = src.string(c, `${name}.config item`);
      if (v !== undefined && !DELIVERIES.includes(v as ConfigDelivery)) src.problem(c, `config delivery must be one of ${DELIVERIES.join(', ')}`, hint(v, DELIVERIES));
      else if (v) config.push(v as ConfigDelivery);
    }
  }
  const fwCfgName = str('fw_cfg_name');
  if (config.includes('ignition-fw_cfg') && !fwCfgName) src.problem(m.get('config')?.value, `${name} delivers Ignition by fw_cfg but has no fw_cfg_name`, 'add fw_cfg_name: opt/org.flatcar-linux/config');

  const ignitionSpec = readIgnitionSpec(src, m, name, config);
  const memory = m.has('memory') ? src.int(m.get('memory')!.value, `${name}.memory`, 256) : undefined;
  const entry: CatalogEntry = {
    name,
    description: str('description') ?? '',
    base,
    build,
    files,
    digests,
    format: oneOf('format', FORMATS) ?? 'qcow2',
    boot: oneOf('boot', BOOTS) ?? 'disk',
    cmdline: str('cmdline'),
    user: str('user') ?? '',
    config,
    fwCfgName,
    ...(ignitionSpec ? { ignitionSpec } : {}),
    agent: oneOf('agent', AGENTS) ?? 'cloud-init',
    memory: memory ?? 0,
    machine: oneOf('machine', MACHINES) ?? 'pc',
  };
  return entry;
}

/** ignition_spec: 3 (the only value): the image's Ignition reads spec 3.x only; needs ignition-fw_cfg. */
function readIgnitionSpec(src: YamlSource, m: Map<string, { value: Node | null }>, name: string, config: ConfigDelivery[]): 3 | undefined {
  const node = m.get('ignition_spec')?.value;
  if (!node) return undefined;
  const spec = isScalar(node) ? node.value : undefined;
  if (spec !== 3) src.problem(node, `${name}.ignition_spec must be 3 (an Ignition that reads spec 3.x only; leave it out for one that reads 2.x)`, 'ignition_spec: 3');
  if (!config.includes('ignition-fw_cfg')) src.problem(node, `${name}.ignition_spec is set but ${name}.config has no ignition-fw_cfg`, 'add ignition-fw_cfg to config (and fw_cfg_name), or drop ignition_spec');
  return spec === 3 ? 3 : undefined;
}

/** key_fingerprint (40 or 64 hex digits, spaces allowed) and key_url, which needs the fingerprint it is checked against. */
function readPin(src: YamlSource, dm: Map<string, { value: Node | null }>, name: string): Pick<CatalogDigests, 'keyFingerprint' | 'keyUrl'> {
  const fprNode = dm.get('key_fingerprint')?.value;
  const raw = fprNode ? src.string(fprNode, `${name}.digests.key_fingerprint`) : undefined;
  const keyFingerprint = raw?.replace(/\s+/g, '').toUpperCase();
  if (keyFingerprint !== undefined && !/^([0-9A-F]{40}|[0-9A-F]{64})$/.test(keyFingerprint)) {
    src.problem(fprNode, `${name}.digests.key_fingerprint must be the primary key's fingerprint: 40 (or 64) hex digits`, 'copy it from `gpg --show-keys KEYFILE` or the publisher\'s page');
  }
  const urlNode = dm.get('key_url')?.value;
  const keyUrl = urlNode ? src.string(urlNode, `${name}.digests.key_url`) : undefined;
  if (keyUrl !== undefined && !/^(https?:\/\/[^/]|\{base\})/.test(keyUrl)) src.problem(urlNode, `${name}.digests.key_url must be an http(s) URL (or start with {base})`);
  if (keyUrl !== undefined && !keyFingerprint) src.problem(urlNode, `${name}.digests.key_url needs key_fingerprint: a key fetched from a URL is trusted only by its pinned fingerprint`, 'add key_fingerprint: <the primary key fingerprint>');
  return { keyFingerprint, keyUrl };
}

function readFiles(src: YamlSource, node: Node | null, name: string): CatalogFile[] {
  const files: CatalogFile[] = [];
  for (const f of src.entries(node, `${name}.files`)) {
    if (!ROLES.includes(f.name)) src.problem(f.key, `unknown file role "${f.name}" in ${name}.files`, hint(f.name, ROLES));
    const fm = src.map(f.value, `${name}.files.${f.name}`, ['url', 'decompress']);
    const url = fm.has('url') ? src.string(fm.get('url')!.value, `${name}.files.${f.name}.url`) : undefined;
    if (!url) {
      if (!fm.has('url')) src.problem(f.value, `${name}.files.${f.name} has no "url"`, 'add url: "{base}FILE"');
      continue;
    }
    const dec = fm.has('decompress') ? src.string(fm.get('decompress')!.value, 'decompress') : undefined;
    if (dec !== undefined && !DECOMPRESS.includes(dec as Decompress)) src.problem(fm.get('decompress')!.value, `decompress must be one of ${DECOMPRESS.join(', ')}`);
    else if (dec && !url.endsWith(`.${dec}`)) src.problem(fm.get('decompress')!.value, `${url} does not end in .${dec}`, `decompress names the compression of the downloaded file`);
    files.push({ role: f.name, url, decompress: dec as Decompress | undefined });
  }
  return files;
}

function readDigests(src: YamlSource, dn: Node | null, name: string): CatalogDigests | undefined {
  const dm = src.map(dn, `${name}.digests`, ['url', 'signed', 'signature', 'key', 'key_fingerprint', 'key_url']);
  const url = dm.has('url') ? src.string(dm.get('url')!.value, `${name}.digests.url`) : undefined;
  const signed = dm.has('signed') ? src.string(dm.get('signed')!.value, `${name}.digests.signed`) : 'none';
  if (!url) src.problem(dn, `${name}.digests has no "url"`);
  if (signed && !SIGNED.includes(signed as CatalogDigests['signed'])) src.problem(dm.get('signed')?.value, `${name}.digests.signed must be one of ${SIGNED.join(', ')}`);
  const signature = dm.has('signature') ? src.string(dm.get('signature')!.value, 'signature') : undefined;
  const key = dm.has('key') ? src.string(dm.get('key')!.value, 'key') : undefined;
  if (signed === 'detached' && !signature) src.problem(dn, `${name}.digests is signed: detached but has no "signature" URL`);
  if (signed !== 'none' && !key) src.problem(dn, `${name}.digests is signed but names no "key" file`, 'add key: images/keys/NAME.asc');
  const pin = readPin(src, dm, name);
  return url && signed ? { url, signed: signed as CatalogDigests['signed'], signature, key: key ? join(PROJECT_DIR, key) : undefined, ...pin } : undefined;
}

function hint(v: string, allowed: readonly string[]): string | undefined {
  const near = closest(v, [...allowed]);
  return near ? `did you mean "${near}"?` : undefined;
}

/** The entry called name, or an error listing the known names. */
export function catalogEntry(name: string, catalog: Catalog = loadCatalog()): CatalogEntry {
  const entry = catalog.get(name);
  if (entry) return entry;
  const near = closest(name, [...catalog.keys()]);
  throw new LabError(`no image "${name}" in the catalog`, {
    fix: near ? `did you mean "${near}"? (corelab images list shows them all)` : `known images: ${[...catalog.keys()].join(', ')}`,
  });
}

/** The mirror to use: --mirror, else $CORELAB_IMAGE_MIRROR, else none (upstream). */
export function imageMirror(option?: string): string | undefined {
  const m = option ?? process.env.CORELAB_IMAGE_MIRROR;
  if (!m) return undefined;
  if (!/^https?:\/\/[^/]/.test(m)) throw new LabError(`image mirror "${m}" is not an http(s) URL`, { fix: 'pass --mirror http://HOST[:PORT][/PATH]' });
  return m.replace(/\/+$/, '');
}

/** The entry's base URL; with a mirror, its scheme and host are replaced by the mirror URL. */
export function resolveBase(entry: CatalogEntry, mirror?: string): string {
  if (!entry.base) throw new LabError(`image ${entry.name} is built locally, not downloaded`, { fix: `corelab images build ${entry.build ?? entry.name}` });
  if (!mirror) return entry.base;
  const u = new URL(entry.base);
  return `${mirror.replace(/\/+$/, '')}${u.pathname}`;
}

/** A URL template with {base} filled in. */
export function resolveUrl(template: string, entry: CatalogEntry, mirror?: string): string {
  return template.replaceAll('{base}', resolveBase(entry, mirror));
}

/** The last path segment of a URL: the name a release's digest list uses for it. */
export function urlFileName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}

/** The name a file is kept under once fetched (without the compression suffix). */
export function storedName(file: CatalogFile): string {
  const n = urlFileName(file.url.replaceAll('{base}', 'http://x/'));
  return file.decompress ? n.slice(0, -(file.decompress.length + 1)) : n;
}
