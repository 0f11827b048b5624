/**
 * Ignition config spec 2.0-2.3 translated to 3.3.0, for an image whose Ignition reads 3.x only
 * (catalog ignition_spec: 3). It maps what Flatcar's ign-converter (translate/v24tov31) and
 * Ignition's own 2.0 to 2.1 translation map: files are placed by absolute path (their
 * filesystem's path, "/" for "root"), 2.x files overwrite, mount.create becomes wipeFilesystem,
 * networkd units become files in /etc/systemd/network, a user's "create" is flattened. What spec
 * 3 cannot say is an error naming the key; keys Ignition 2.x would ignore are dropped, with a
 * warning. Pure: no I/O.
 */
import { posix } from 'node:path';
import { knownKeys2x, type IgnitionIssue } from './ignition2schema.js';
import { showPath, type JsonPath } from './jsonpos.js';

export type { IgnitionIssue };
/** The spec versions each side reads. */
export const SPEC2_VERSIONS = ['2.0.0', '2.1.0', '2.2.0', '2.3.0'];
export const SPEC3_VERSIONS = ['3.0.0', '3.1.0', '3.2.0', '3.3.0'];
export const TRANSLATED_VERSION = '3.3.0';

type Obj = Record<string, unknown>;
interface Ref { source?: string; verification?: { hash?: string } }
interface Node2 { filesystem?: string; path?: string; user?: { id?: number; name?: string }; group?: { id?: number; name?: string }; overwrite?: boolean }
interface File2 extends Node2 { mode?: number; append?: boolean; contents?: Ref & { compression?: string } }
interface Dropin { name?: string; contents?: string }
interface Unit2 { name?: string; enable?: boolean; enabled?: boolean; mask?: boolean; contents?: string; dropins?: Dropin[] }
interface Fs2 { name?: string; path?: string; mount?: { device?: string; format?: string; create?: { force?: boolean; options?: string[] }; wipeFilesystem?: boolean; label?: string; uuid?: string; options?: string[] } }
interface Partition2 { label?: string; number?: number; size?: number; start?: number; sizeMiB?: number; startMiB?: number; typeGuid?: string; guid?: string; wipePartitionEntry?: boolean; shouldExist?: boolean }
interface Config2 {
  ignition?: { version?: string; config?: { append?: Ref[]; replace?: Ref }; timeouts?: Obj; security?: { tls?: { certificateAuthorities?: Ref[] } } };
  storage?: { disks?: Array<{ device?: string; wipeTable?: boolean; partitions?: Partition2[] }>; raid?: Obj[]; filesystems?: Fs2[]; files?: File2[]; directories?: Array<Node2 & { mode?: number }>; links?: Array<Node2 & { target?: string; hard?: boolean }> };
  systemd?: { units?: Unit2[] };
  networkd?: { units?: Array<{ name?: string; contents?: string; dropins?: Dropin[] }> };
  passwd?: { users?: Obj[]; groups?: Obj[] };
}

export interface Translation {
  /** The 3.3.0 config (what could be translated, when there are errors). */
  config: Obj;
  issues: IgnitionIssue[];
}

/** The 2.<minor> of a 2.x version string, else undefined. */
export function spec2Minor(version: unknown): number | undefined {
  const i = SPEC2_VERSIONS.indexOf(String(version));
  return i < 0 ? undefined : i;
}

/** A 2.0.0-2.3.0 config (parsed JSON) as spec 3.3.0, with what could not be carried over. */
export function translateIgnition2to3(input: unknown): Translation {
  const issues: IgnitionIssue[] = [];
  const version = (input as Config2 | undefined)?.ignition?.version;
  const minor = spec2Minor(version);
  if (minor === undefined) {
    issues.push({ path: ['ignition', 'version'], level: 'error', message: `ignition.version "${version}" is not a spec 2.x version this translation reads`, fix: `use one of ${SPEC2_VERSIONS.join(', ')}` });
    return { config: { ignition: { version: TRANSLATED_VERSION } }, issues };
  }
  const cfg = knownKeys2x(input, minor, issues) as Config2;
  const err = (path: JsonPath, message: string, fix: string) => issues.push({ path, level: 'error', message, fix });
  const fsPaths = filesystemPaths(cfg.storage?.filesystems ?? []);
  const st = cfg.storage ?? {};
  // Files, directories and links, each with the 2.x key it comes from (for the duplicate check).
  const nodes = {
    files: [...files(st.files ?? [], fsPaths, err, minor), ...networkdFiles(cfg.networkd?.units ?? [], err)],
    directories: (st.directories ?? []).flatMap((d, i): Placed[] => (d ? [[['storage', 'directories', i], { ...node(d, ['storage', 'directories', i], fsPaths, err), overwrite: d.overwrite, mode: d.mode }]] : [])),
    links: (st.links ?? []).flatMap((l, i): Placed[] => (l ? [[['storage', 'links', i], { ...node(l, ['storage', 'links', i], fsPaths, err), overwrite: l.overwrite, target: l.target, hard: flag(l.hard) }]] : [])),
  };
  duplicates([...nodes.files, ...nodes.directories, ...nodes.links], issues);
  const storage = {
    disks: st.disks?.map((d, i) => d && { device: d.device, wipeTable: flag(d.wipeTable), partitions: d.partitions?.map((p, j) => p && partition(p, ['storage', 'disks', i, 'partitions', j], err)) }),
    raid: st.raid?.map((r) => r && { ...r, spares: r.spares || undefined }),
    filesystems: filesystems(st.filesystems ?? [], err),
    files: nodes.files.map(([, e]) => e),
    directories: nodes.directories.map(([, e]) => e),
    links: nodes.links.map(([, e]) => e),
  };
  const config = {
    ignition: ignition(cfg.ignition ?? {}, issues),
    storage,
    systemd: { units: cfg.systemd?.units?.map((u) => u && unit(u)) },
    passwd: { users: cfg.passwd?.users?.map((u) => u && user(u)), groups: cfg.passwd?.groups?.map((g) => g && { ...g, passwordHash: str(g.passwordHash), system: flag(g.system) }) },
  };
  return { config: compact(config) as Obj, issues };
}

type Err = (path: JsonPath, message: string, fix: string) => void;

function ignition(ign: NonNullable<Config2['ignition']>, issues: IgnitionIssue[]): Obj {
  const c = ign.config ?? {};
  for (const k of ['append', 'replace'] as const) {
    if (!c[k]) continue;
    issues.push({
      path: ['ignition', 'config', k], level: 'warning',
      message: `ignition.config.${k} becomes ignition.config.${k === 'append' ? 'merge' : 'replace'}: the config it names is fetched by an Ignition that reads spec 3.x only`,
      fix: 'make sure the config it names is spec 3.x (3.0.0-3.3.0), or put its contents into this config',
    });
  }
  return {
    version: TRANSLATED_VERSION,
    config: { merge: c.append?.map((r) => r && resource(r)), replace: c.replace && resource(c.replace) },
    timeouts: ign.timeouts,
    security: { tls: { certificateAuthorities: ign.security?.tls?.certificateAuthorities?.map((r) => r && resource(r)) } },
  };
}

function resource(r: Ref & { compression?: string }): Obj {
  return { source: r.source, compression: str(r.compression), verification: { hash: r.verification?.hash } };
}

/** Where each named filesystem is in the spec 3 tree: "root" at "/", one with a path there. */
function filesystemPaths(list: Fs2[]): Map<string, string> {
  const paths = new Map([['root', '/']]);
  for (const fs of list) if (fs?.name && fs.path !== undefined && !fs.mount) paths.set(fs.name, fs.path);
  return paths;
}

/** Filesystems to make: those with a mount (one given by its path alone is only a place for files). */
function filesystems(list: Fs2[], err: Err): Obj[] {
  const out: Obj[] = [];
  list.forEach((fs, i) => {
    const at = ['storage', 'filesystems', i];
    if (!fs) return;
    if (fs.mount && fs.path !== undefined) return err([...at, 'path'], `${showPath(at)} has both "mount" and "path"; spec 2.x takes one`, 'keep "mount" (a filesystem to make) or "path" (one already mounted there)');
    const m = fs.mount;
    if (!m) {
      if (fs.path === undefined) err(at, `${showPath(at)} has neither "mount" nor "path"`, 'add "mount": { "device": ..., "format": ... }, or remove it');
      return;
    }
    let wipe = flag(m.wipeFilesystem);
    const options = [...(m.options ?? [])];
    if (m.create) {
      if (!m.create.force) {
        err([...at, 'mount', 'create'], `${showPath(at)}.mount.create without "force": true has no spec 3 equivalent (3.x either wipes the device or reuses a matching filesystem)`, 'add "force": true to create (the filesystem is made anew), or use "wipeFilesystem" (spec 2.1+)');
      }
      wipe = true;
      options.push(...(m.create.options ?? []));
    }
    out.push({ device: m.device, format: m.format, wipeFilesystem: wipe, label: m.label, uuid: m.uuid, options });
  });
  return out;
}

/** The node's absolute path in spec 3 (its filesystem's path joined to its own), owner and group. */
function node(n: Node2, at: JsonPath, fsPaths: Map<string, string>, err: Err): Obj {
  const what = showPath(at);
  const path = n.path ?? '';
  const bad = pathIssue(path, at);
  if (bad) err(bad.path, bad.message, bad.fix);
  const fs = n.filesystem;
  const base = fs === undefined ? undefined : fsPaths.get(fs);
  if (fs === undefined) err(at, `${what} names no filesystem`, 'add "filesystem": "root" (spec 2.x needs it)');
  else if (base === undefined) {
    err([...at, 'filesystem'], `${what}.filesystem "${fs}" is not "root" and names no filesystem with a "path": spec 3 places files by absolute path, so where "${fs}" is mounted is not known`, `put it on "root" under the path where "${fs}" is mounted, or give the config a filesystem "${fs}" with "path" (where it is mounted)`);
  }
  const owner = (o: Node2['user']) => o && { id: o.id, name: str(o.name) };
  return { path: posix.join(base ?? '/', path), user: owner(n.user), group: owner(n.group) };
}

/** An error when a file, directory or link path is not absolute or has a ".." segment (which could leave "/"). */
function pathIssue(path: unknown, at: JsonPath): IgnitionIssue | undefined {
  const p = typeof path === 'string' ? path : '';
  if (p.startsWith('/') && !p.split('/').includes('..')) return undefined;
  const why = p.startsWith('/') ? 'has a ".." segment, which escapes its filesystem' : 'is not absolute';
  return { path: [...at, 'path'], level: 'error', message: `${showPath(at)}.path "${p}" ${why}`, fix: 'write the full path from the filesystem\'s top, starting with "/" and without ".."' };
}

/** The path errors of a config that is not translated (3.x, or 2.x for an Ignition that reads it). */
export function pathIssues(config: unknown): IgnitionIssue[] {
  const storage = (config as { storage?: Record<string, unknown> } | undefined)?.storage;
  return (['files', 'directories', 'links'] as const).flatMap((kind) => {
    const list = storage?.[kind];
    if (!Array.isArray(list)) return [];
    return list.flatMap((e, i) => pathIssue((e as { path?: unknown } | null)?.path, ['storage', kind, i]) ?? []);
  });
}

/** A spec 3 file, directory or link, and the 2.x key it comes from. */
type Placed = [JsonPath, Obj];

/** 2.x files overwrite what is there (3.x does not by default); appending ones do not. */
function files(list: File2[], fsPaths: Map<string, string>, err: Err, minor: number): Placed[] {
  return list.flatMap((f, i): Placed[] => {
    if (!f) return [];
    const at = ['storage', 'files', i];
    const contents = resource({ ...f.contents, source: f.contents?.source || 'data:,' });
    const overwrite = f.append ? false : minor >= 2 && f.overwrite !== undefined ? f.overwrite : true;
    return [[at, { ...node(f, at, fsPaths, err), overwrite, mode: f.mode, ...(f.append ? { append: [contents] } : { contents }) }]];
  });
}

/** networkd units (gone in spec 3) as the files Ignition 2.x wrote for them. */
function networkdFiles(units: NonNullable<NonNullable<Config2['networkd']>['units']>, err: Err): Placed[] {
  const file = (at: JsonPath, path: string, contents = ''): Placed => [at, { path, overwrite: true, mode: 0o644, contents: { source: `data:,${encodeURIComponent(contents)}` } }];
  const named = (name: string | undefined, at: JsonPath) => name || void err(at, `${showPath(at)} has no name`, 'add "name": "NAME.network" (the file in /etc/systemd/network)');
  return units.flatMap((u, i) => {
    const at = ['networkd', 'units', i];
    const name = u && named(u.name, at);
    if (!name) return [];
    const dropins = (u.dropins ?? []).flatMap((d, j) => {
      const dn = d && named(d.name, [...at, 'dropins', j]);
      return dn ? [file([...at, 'dropins', j], `/etc/systemd/network/${name}.d/${dn}`, d.contents)] : [];
    });
    return [file(at, `/etc/systemd/network/${name}`, u.contents), ...dropins];
  });
}

/** Spec 3 allows one entry per path across files, directories and links. */
function duplicates(placed: Placed[], issues: IgnitionIssue[]): void {
  const seen = new Map<string, string>();
  for (const [at, e] of placed) {
    const path = e.path as string;
    const before = seen.get(path);
    if (before) issues.push({ path: at, level: 'error', message: `${showPath(at)} and ${before} are both ${path}: spec 3 takes one entry per path`, fix: 'keep one of them (a networkd unit becomes a file in /etc/systemd/network)' });
    else seen.set(path, showPath(at));
  }
}

function unit(u: Unit2): Obj {
  // "enabled" wins over the older "enable" (as ign-converter has it).
  const enabled = u.enabled === false ? false : u.enabled || u.enable ? true : undefined;
  return { name: u.name, enabled, mask: flag(u.mask), contents: str(u.contents), dropins: u.dropins?.map((d) => d && { name: d.name, contents: str(d.contents) }) };
}

const CREATE_KEYS = ['uid', 'gecos', 'homeDir', 'noCreateHome', 'primaryGroup', 'groups', 'noUserGroup', 'system', 'noLogInit', 'shell'];

/** A user; a "create" (2.0/2.1) is flattened into it, replacing its fields as Ignition 2.x did. */
function user(u: Obj): Obj {
  const { create, ...rest } = u as Obj & { create?: Obj };
  const flat: Obj = create ? { ...Object.fromEntries(Object.entries(rest).filter(([k]) => !CREATE_KEYS.includes(k))), ...create } : rest;
  for (const k of ['noCreateHome', 'noUserGroup', 'system', 'noLogInit']) flat[k] = flag(flat[k]);
  for (const k of ['gecos', 'homeDir', 'primaryGroup', 'shell']) flat[k] = str(flat[k]);
  return flat;
}

/** A partition; 2.x sizes in 512-byte sectors become MiB when they are whole MiB. */
function partition(p: Partition2, at: JsonPath, err: Err): Obj {
  const mib = (k: 'size' | 'start', sectors: number | undefined, given: number | undefined) => {
    if (given !== undefined || sectors === undefined) return given;
    if (sectors % 2048 === 0) return sectors / 2048;
    err([...at, k], `${showPath(at)}.${k} is ${sectors} sectors, not a whole number of MiB: spec 3 takes ${k}MiB only`, `use a multiple of 2048 sectors (${Math.round(sectors / 2048) * 2048} is ${Math.round(sectors / 2048)} MiB)`);
    return undefined;
  };
  return {
    label: p.label, number: p.number || undefined, sizeMiB: mib('size', p.size, p.sizeMiB), startMiB: mib('start', p.start, p.startMiB),
    typeGuid: str(p.typeGuid), guid: str(p.guid), wipePartitionEntry: flag(p.wipePartitionEntry), shouldExist: p.shouldExist,
  };
}

/** 2.x booleans and strings default to false and "": unset in 3.x. */
function flag(v: unknown): true | undefined {
  return v === true ? true : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Without undefined, empty lists and empty objects. */
export function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined && x !== null).map(compact);
  if (typeof v !== 'object' || v === null) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const c = compact(x);
    if (c === undefined || (Array.isArray(c) && !c.length) || (typeof c === 'object' && c !== null && !Array.isArray(c) && !Object.keys(c).length)) continue;
    out[k] = c;
  }
  return out;
}
