import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../util/paths.js';
import { count } from '../util/counters.js';
import { LabError } from '../util/errors.js';
import { download } from '../download/download.js';

/**
 * Programs the lab hands guests that no image ships any more: fleet's last release, and an etcd
 * with the v2 API (3.4) for images without etcd2 (Flatcar). The lab never builds them; they come
 * from the upstream release asset (downloaded by `corelab artifacts pull`), a local folder
 * (--artifacts DIR or CORELAB_ARTIFACTS), or `corelab artifacts import` of the tarball or of the
 * loose binaries.
 */
export interface ArtifactSpec {
  name: string;
  version: string;
  /** The upstream release asset. */
  url: string;
  tarball: string;
  /** Files a guest gets in /opt/bin. */
  binaries: string[];
  /** Other release tarballs taken as this artifact (e.g. any etcd 3.4.x). */
  accepts?: RegExp;
  /** The cache folder's name, when it is not NAME-VERSION (a series whose releases all fit). */
  cacheName?: string;
  /** How to tell the binary's version: the flag and the pattern of its output (checked on import). */
  versionProbe?: { binary: string; args: string[]; pattern: RegExp; ok: RegExp; want: string; why: string };
}

export const ARTIFACTS: Record<string, ArtifactSpec> = {
  fleet: {
    name: 'fleet',
    version: 'v1.0.0',
    url: 'https://github.com/coreos/fleet/releases/download/v1.0.0/fleet-v1.0.0-linux-amd64.tar.gz',
    tarball: 'fleet-v1.0.0-linux-amd64.tar.gz',
    binaries: ['fleetd', 'fleetctl'],
  },
  etcd: {
    name: 'etcd',
    version: 'v3.4.33',
    url: 'https://github.com/etcd-io/etcd/releases/download/v3.4.33/etcd-v3.4.33-linux-amd64.tar.gz',
    tarball: 'etcd-v3.4.33-linux-amd64.tar.gz',
    binaries: ['etcd', 'etcdctl'],
    accepts: /^etcd-v3\.4\.\d+-linux-amd64\.tar\.gz$/,
    cacheName: 'etcd-v3.4',
    versionProbe: { binary: 'etcd', args: ['--version'], pattern: /etcd Version: (\S+)/, ok: /^3\.4\./, want: '3.4.x', why: 'the lab runs etcd2.service with the v2 API, which 3.4 has (--enable-v2) and 3.6 removed' },
  },
};

/** Where a resolved artifact's binaries are, and where they came from. */
export interface ResolvedArtifact {
  spec: ArtifactSpec;
  binaries: Record<string, string>;
  source: string;
  sha256: string;
  /** The version of what is here, when known (an etcd imported from Debian is 3.4.23, not the release pulled). */
  version?: string;
}

export function artifactsCacheDir(spec: ArtifactSpec): string {
  return join(cacheDir(), 'artifacts', spec.cacheName ?? `${spec.name}-${spec.version}`);
}

/** How to supply a missing artifact, for messages. */
export function howToSupply(spec: ArtifactSpec): string {
  const loose = spec.versionProbe ? `; or import loose binaries one by one (e.g. Debian's: corelab artifacts import ${spec.name} /usr/bin/${spec.binaries[0]})` : '';
  return `put ${spec.binaries.join(' and ')} (or ${spec.tarball}) in a folder and pass --artifacts DIR (or set CORELAB_ARTIFACTS=DIR), or download the release with: corelab artifacts pull ${spec.name}, or take a file you have with: corelab artifacts import ${spec.name} FILE${loose}`;
}

/** The version a binary reports (spec.versionProbe); refused when it is not one the lab can use. */
export async function probeVersion(spec: ArtifactSpec, file: string): Promise<string | undefined> {
  const p = spec.versionProbe;
  if (!p || basename(file) !== p.binary) return undefined;
  const r = await execa(file, p.args, { reject: false, timeout: 10_000, all: true });
  const version = (r.all ?? '').match(p.pattern)?.[1];
  if (!version) throw new LabError(`${file} did not say its version (${basename(file)} ${p.args.join(' ')}: ${(r.all ?? r.shortMessage ?? '').split('\n')[0]})`, { fix: `use a linux-amd64 ${spec.name} ${spec.version} binary or release tarball` });
  if (!p.ok.test(version)) throw new LabError(`${file} is ${spec.name} ${version}, which the lab cannot use: ${p.why}`, { fix: `use ${spec.name} ${spec.version} (or another ${p.want})` });
  return version;
}

/**
 * The artifact from the given folder (loose binaries, the release tarball, or its unpacked top
 * folder), else from the cache; undefined when neither has it. The tarball's sha256 is recorded
 * in the cache the first time and checked on every later use.
 */
export async function resolveArtifact(name: string, dir = process.env.CORELAB_ARTIFACTS): Promise<ResolvedArtifact | undefined> {
  count('artifact resolved');
  const spec = ARTIFACTS[name];
  if (!spec) throw new LabError(`unknown artifact "${name}"`, { fix: `known: ${Object.keys(ARTIFACTS).join(', ')}` });
  if (dir) {
    const d = resolve(dir);
    if (!existsSync(d)) throw new LabError(`the artifacts folder ${d} does not exist`, { fix: howToSupply(spec) });
    for (const candidate of [d, join(d, spec.tarball.replace(/\.tar\.gz$/, ''))]) {
      if (spec.binaries.every((b) => existsSync(join(candidate, b)))) {
        return { spec, binaries: Object.fromEntries(spec.binaries.map((b) => [b, join(candidate, b)])), source: candidate, sha256: digestOf(spec.binaries.map((b) => join(candidate, b))) };
      }
    }
    if (existsSync(join(d, spec.tarball))) return importTarball(spec, join(d, spec.tarball));
    const other = spec.accepts ? readdirSync(d).sort().reverse().find((f) => spec.accepts!.test(f)) : undefined;
    if (other) return importTarball(spec, join(d, other));
  }
  const cached = artifactsCacheDir(spec);
  if (spec.binaries.every((b) => existsSync(join(cached, b)))) {
    const recorded = readRecord(cached);
    const now = digestOf(spec.binaries.map((b) => join(cached, b)));
    if (recorded?.binaries && recorded.binaries !== now) {
      throw new LabError(`the cached ${spec.name} ${spec.version} in ${cached} does not match the digest recorded when it was added`, { fix: `remove ${cached} and supply it again: ${howToSupply(spec)}` });
    }
    return { spec, binaries: Object.fromEntries(spec.binaries.map((b) => [b, join(cached, b)])), source: recorded?.from ?? cached, sha256: recorded?.tarball ?? now, version: recorded?.version };
  }
  return undefined;
}

/** Unpacks the release tarball into the cache, recording its digest (checked against an earlier record). */
export async function importTarball(spec: ArtifactSpec, tarball: string): Promise<ResolvedArtifact> {
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const dest = artifactsCacheDir(spec);
  const recorded = readRecord(dest);
  if (recorded?.tarball && recorded.tarball !== sha256) {
    throw new LabError(`${tarball} (sha256 ${sha256}) is not the ${spec.tarball} recorded before (sha256 ${recorded.tarball})`, { fix: `if the new file is right, remove ${dest} and run again` });
  }
  if (recorded?.files) {
    throw new LabError(`${spec.name} is already in the cache as loose binaries (from ${recorded.from}); ${tarball} would replace them`, { fix: `if the tarball is what you want, remove ${dest} and run again` });
  }
  const tmp = `${dest}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await execa('tar', ['-xzf', tarball, '-C', tmp]);
    const named = join(tmp, basename(tarball).replace(/\.tar\.gz$/, ''));
    const dirs = readdirSync(tmp, { withFileTypes: true }).filter((e) => e.isDirectory());
    const top = existsSync(named) ? named : dirs.length === 1 ? join(tmp, dirs[0].name) : join(tmp, spec.tarball.replace(/\.tar\.gz$/, ''));
    for (const b of spec.binaries) {
      const from = existsSync(join(top, b)) ? join(top, b) : join(tmp, b);
      if (!existsSync(from)) throw new LabError(`${tarball} has no ${b}`, { fix: `use the upstream ${spec.tarball}` });
      copyFileSync(from, join(tmp, `.${b}`));
    }
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    for (const b of spec.binaries) {
      copyFileSync(join(tmp, `.${b}`), join(dest, b));
      chmodSync(join(dest, b), 0o755);
    }
    const version = basename(tarball).match(/-v(\d+\.\d+\.\d+)-/)?.[1] ?? spec.version.replace(/^v/, '');
    writeFileSync(join(dest, 'record.json'), JSON.stringify({ tarball: sha256, binaries: digestOf(spec.binaries.map((b) => join(dest, b))), from: tarball, version, at: new Date().toISOString() } satisfies ArtifactRecord, null, 2) + '\n');
    return { spec, binaries: Object.fromEntries(spec.binaries.map((b) => [b, join(dest, b)])), source: tarball, sha256, version };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * `corelab artifacts import NAME FILE`: a release tarball, or one loose binary named as the
 * artifact's (e.g. Debian's /usr/bin/etcd, then /usr/bin/etcdctl). A loose binary's version is
 * checked when the artifact says how, and its digest recorded; a different file under the same
 * name later is refused. Returns what is still missing.
 */
export async function importArtifact(spec: ArtifactSpec, file: string): Promise<{ artifact?: ResolvedArtifact; missing: string[] }> {
  if (!existsSync(file)) throw new LabError(`no such file: ${file}`);
  const name = basename(file);
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return { artifact: await importTarball(spec, file), missing: [] };
  if (!spec.binaries.includes(name)) {
    throw new LabError(`${file} is neither a release tarball (${spec.tarball}) nor one of ${spec.name}'s binaries (${spec.binaries.join(', ')})`, { fix: `import the tarball, or the binaries under their own names: ${spec.binaries.join(', ')}` });
  }
  const version = await probeVersion(spec, file);
  const dest = artifactsCacheDir(spec);
  const rec: ArtifactRecord = readRecord(dest) ?? {};
  const sha = digestOf([file]);
  const had = rec.files?.[name] ?? (existsSync(join(dest, name)) ? digestOf([join(dest, name)]) : undefined);
  if (had && had !== sha) {
    throw new LabError(`${file} (sha256 ${sha}) is not the ${name} recorded before (sha256 ${had})`, { fix: `if the new file is right, remove ${dest} and import again` });
  }
  mkdirSync(dest, { recursive: true });
  copyFileSync(file, join(dest, `.${name}.tmp`));
  chmodSync(join(dest, `.${name}.tmp`), 0o755);
  renameSync(join(dest, `.${name}.tmp`), join(dest, name));
  rec.files = { ...rec.files, [name]: sha };
  rec.from = rec.tarball ? rec.from : [...new Set([...(rec.from?.split(', ') ?? []), file])].join(', ');
  if (version) rec.version = version;
  const missing = spec.binaries.filter((b) => !existsSync(join(dest, b)));
  rec.binaries = missing.length ? undefined : digestOf(spec.binaries.map((b) => join(dest, b)));
  rec.at = new Date().toISOString();
  writeFileSync(join(dest, 'record.json'), JSON.stringify(rec, null, 2) + '\n');
  return { artifact: missing.length ? undefined : await resolveArtifact(spec.name, undefined), missing };
}

/**
 * Downloads the release asset (from upstream, or a mirror with the same paths: --mirror or
 * CORELAB_ARTIFACTS_MIRROR) with the lab's downloader (progress, resume, cache), then imports it.
 * Once a digest is recorded, a download that does not match it is refused and nothing is kept.
 */
export async function pullArtifact(name: string, opts: { mirror?: string; offline?: boolean; signal?: AbortSignal } = {}): Promise<ResolvedArtifact> {
  const spec = ARTIFACTS[name];
  if (!spec) throw new LabError(`unknown artifact "${name}"`, { fix: `known: ${Object.keys(ARTIFACTS).join(', ')}` });
  const mirror = opts.mirror ?? process.env.CORELAB_ARTIFACTS_MIRROR;
  const upstream = new URL(spec.url);
  const url = mirror ? new URL(upstream.pathname, mirror.endsWith('/') ? mirror : `${mirror}/`).toString() : spec.url;
  const recorded = readRecord(artifactsCacheDir(spec));
  const stored = await download(url, {
    expect: recorded?.tarball ? { algo: 'sha256', hex: recorded.tarball } : undefined,
    offline: opts.offline,
    offlineFix: `fetch ${spec.url} on a machine with internet, then: corelab artifacts import ${spec.name} /path/to/${spec.tarball}`,
    label: spec.tarball,
    signal: opts.signal,
  });
  return importTarball(spec, stored.path);
}

interface ArtifactRecord {
  /** sha256 of the release tarball it came from. */
  tarball?: string;
  /** sha256 over all binaries, once they are all here. */
  binaries?: string;
  /** sha256 of each loose binary imported. */
  files?: Record<string, string>;
  from?: string;
  version?: string;
  at?: string;
}

function readRecord(dir: string): ArtifactRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function digestOf(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}
