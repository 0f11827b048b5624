import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from './paths.js';
import { LabError } from './errors.js';
import { download } from './download.js';

/**
 * Programs the lab hands guests that no image ships any more: fleet's last release. The lab never
 * builds them; they come from the upstream release asset (downloaded by `corelab artifacts pull`)
 * or from a local folder (--artifacts DIR or CORELAB_ARTIFACTS).
 */
export interface ArtifactSpec {
  name: string;
  version: string;
  /** The upstream release asset. */
  url: string;
  tarball: string;
  /** Files a guest gets in /opt/bin. */
  binaries: string[];
}

export const ARTIFACTS: Record<string, ArtifactSpec> = {
  fleet: {
    name: 'fleet',
    version: 'v1.0.0',
    url: 'https://github.com/coreos/fleet/releases/download/v1.0.0/fleet-v1.0.0-linux-amd64.tar.gz',
    tarball: 'fleet-v1.0.0-linux-amd64.tar.gz',
    binaries: ['fleetd', 'fleetctl'],
  },
};

/** Where a resolved artifact's binaries are, and where they came from. */
export interface ResolvedArtifact {
  spec: ArtifactSpec;
  binaries: Record<string, string>;
  source: string;
  sha256: string;
}

export function artifactsCacheDir(spec: ArtifactSpec): string {
  return join(cacheDir(), 'artifacts', `${spec.name}-${spec.version}`);
}

/** How to supply a missing artifact, for messages. */
export function howToSupply(spec: ArtifactSpec): string {
  return `put ${spec.binaries.join(' and ')} (or ${spec.tarball}) in a folder and pass --artifacts DIR (or set CORELAB_ARTIFACTS=DIR), or download the release with: corelab artifacts pull ${spec.name}`;
}

/**
 * The artifact from the given folder (loose binaries, the release tarball, or its unpacked top
 * folder), else from the cache; undefined when neither has it. The tarball's sha256 is recorded
 * in the cache the first time and checked on every later use.
 */
export async function resolveArtifact(name: string, dir = process.env.CORELAB_ARTIFACTS): Promise<ResolvedArtifact | undefined> {
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
  }
  const cached = artifactsCacheDir(spec);
  if (spec.binaries.every((b) => existsSync(join(cached, b)))) {
    const recorded = readRecord(cached);
    const now = digestOf(spec.binaries.map((b) => join(cached, b)));
    if (recorded && recorded.binaries !== now) {
      throw new LabError(`the cached ${spec.name} ${spec.version} in ${cached} does not match the digest recorded when it was added`, { fix: `remove ${cached} and supply it again: ${howToSupply(spec)}` });
    }
    return { spec, binaries: Object.fromEntries(spec.binaries.map((b) => [b, join(cached, b)])), source: cached, sha256: recorded?.tarball ?? now };
  }
  return undefined;
}

/** Unpacks the release tarball into the cache, recording its digest (checked against an earlier record). */
export async function importTarball(spec: ArtifactSpec, tarball: string): Promise<ResolvedArtifact> {
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const dest = artifactsCacheDir(spec);
  const recorded = readRecord(dest);
  if (recorded && recorded.tarball !== sha256) {
    throw new LabError(`${tarball} (sha256 ${sha256}) is not the ${spec.tarball} recorded before (sha256 ${recorded.tarball})`, { fix: `if the new file is right, remove ${dest} and run again` });
  }
  const tmp = `${dest}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await execa('tar', ['-xzf', tarball, '-C', tmp]);
    const top = join(tmp, spec.tarball.replace(/\.tar\.gz$/, ''));
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
    writeFileSync(join(dest, 'record.json'), JSON.stringify({ tarball: sha256, binaries: digestOf(spec.binaries.map((b) => join(dest, b))), from: tarball, at: new Date().toISOString() }, null, 2) + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { spec, binaries: Object.fromEntries(spec.binaries.map((b) => [b, join(dest, b)])), source: tarball, sha256 };
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
    expect: recorded ? { algo: 'sha256', hex: recorded.tarball } : undefined,
    offline: opts.offline,
    offlineFix: `fetch ${spec.url} on a machine with internet, then: corelab artifacts import ${spec.name} /path/to/${spec.tarball}`,
    label: spec.tarball,
    signal: opts.signal,
  });
  return importTarball(spec, stored.path);
}

function readRecord(dir: string): { tarball: string; binaries: string } | undefined {
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
