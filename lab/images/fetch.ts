import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { catalogEntry, imageMirror, loadCatalog, resolveUrl, storedName, urlFileName, type Catalog, type CatalogEntry, type CatalogFile } from './catalog.js';
import { blobPath, digestFor, download, downloadsDir, mb, storeFile, writeAtomic, type DigestList, type SourceDigests } from '../download/download.js';
import { digestsFor, fetchDigests, pulledDir, saveDigests } from './digestlist.js';
import { LabError } from '../util/errors.js';
import { findBuiltImage } from './store.js';
import { log, section, warn } from '../util/log.js';
import { cacheDir } from '../util/paths.js';

/** How a cached file was checked: against a signed digest list, an unsigned one, or not at all. */
export type Verification = 'signature' | 'digest' | 'none';

export interface FetchOptions {
  /** Replaces the upstream scheme+host of the entry's base (else $CORELAB_IMAGE_MIRROR). */
  mirror?: string;
  /** Never touch the network. */
  offline?: boolean;
  /** OpenPGP public key: a file, or the armored key itself; overrides the catalog's key file. */
  key?: string;
  /** Defaults to images/catalog.yaml. */
  catalog?: Catalog;
  /**
   * pull only: fetch the digest list again even when every file is cached, and download again
   * each file whose published digest changed (entries like flatcar-stable move with each release).
   */
  refresh?: boolean;
  signal?: AbortSignal;
  /** import only: keep a file whose digest cannot be checked, recorded UNVERIFIED (a run then needs the same flag). */
  allowUnverified?: boolean;
}

interface PulledFile {
  role: string;
  /** The name in the release (and its digest list). */
  name: string;
  /** The name once decompressed. */
  stored: string;
  url?: string;
  importedFrom?: string;
  sha256: string;
  size: number;
  source: SourceDigests & { name: string };
  verified: Verification;
}

interface Manifest {
  name: string;
  files: Record<string, PulledFile>;
}

/** A fetched image: its catalog entry and the cached path of each file, by role (disk, iso, kernel, initrd). */
export interface PulledImage {
  name: string;
  entry: CatalogEntry;
  files: Record<string, string>;
  verified: Verification;
  /** What the cache recorded of each file, by role: checked again at each use (images/integrity.ts). */
  recorded: Record<string, { name: string; sha256: string; size: number; verified: Verification }>;
}

export interface ImageStatus {
  name: string;
  description: string;
  /** downloaded (pull/import) or built locally (labos). */
  kind: 'download' | 'build';
  /** Every file is in the cache. */
  cached: boolean;
  /** Bytes in the cache (what there is of it). */
  size: number;
  /** The weakest check of its files; undefined when nothing is cached or it is built locally. */
  verified?: Verification;
  missing: string[];
}

function readManifest(name: string): Manifest {
  try {
    return JSON.parse(readFileSync(join(pulledDir(name), 'image.json'), 'utf8')) as Manifest;
  } catch {
    return { name, files: {} };
  }
}

function writeManifest(m: Manifest): void {
  mkdirSync(pulledDir(m.name), { recursive: true });
  writeAtomic(join(pulledDir(m.name), 'image.json'), JSON.stringify(m, null, 2) + '\n');
}

function present(m: Manifest, f: CatalogFile): PulledFile | undefined {
  const p = m.files[f.role];
  return p && existsSync(blobPath(p.sha256)) ? p : undefined;
}

function weakest(files: PulledFile[]): Verification {
  const order: Verification[] = ['none', 'digest', 'signature'];
  return files.reduce<Verification>((w, f) => (order.indexOf(f.verified) < order.indexOf(w) ? f.verified : w), 'signature');
}

function downloadable(name: string, catalog?: Catalog): CatalogEntry {
  const entry = catalogEntry(name, catalog ?? loadCatalog());
  if (entry.build || !entry.base) throw new LabError(`${name} is built locally, not downloaded`, { fix: `corelab images build ${entry.build ?? name}` });
  return entry;
}

function importHint(entry: CatalogEntry, f: CatalogFile): string {
  return `corelab images import ${entry.name} /path/to/${urlFileName(resolveUrl(f.url, entry))}`;
}

/**
 * The image's files in the cache; fetched and checked first if they are not all there. Signed
 * digest lists are checked with the OpenPGP key before any image byte is fetched.
 */
export async function pullImage(name: string, opts: FetchOptions = {}): Promise<PulledImage> {
  const entry = downloadable(name, opts.catalog);
  const manifest = readManifest(name);
  const missing = entry.files.filter((f) => !present(manifest, f));
  if (missing.length === 0 && !opts.refresh) {
    log(`${name} from cache: ${pulledDir(name)}`);
    return result(entry, manifest);
  }
  if (opts.offline && opts.refresh) {
    throw new LabError(`--refresh fetches ${name}'s digest list again, which --offline forbids`, { fix: `drop --offline to refresh, or drop --refresh to use the cached ${name} as it is` });
  }
  if (opts.offline) {
    const f = missing[0];
    const url = resolveUrl(f.url, entry);
    throw new LabError(`offline: ${name} needs ${urlFileName(url)} (its ${f.role}), which is not in the cache${missing.length > 1 ? ` (nor are ${missing.slice(1).map((m) => urlFileName(resolveUrl(m.url, entry))).join(', ')})` : ''}`, {
      fix: `fetch ${url} on a machine with internet and run: ${importHint(entry, f)}   (or pull without --offline)`,
    });
  }
  const mirror = imageMirror(opts.mirror);
  return section(`pull ${name}${opts.refresh ? ' --refresh' : ''}${mirror ? ` from ${mirror}` : ''}`, async () => {
    const digests = await fetchDigests(entry, mirror, opts);
    const stale = opts.refresh ? entry.files.filter((f) => !present(manifest, f) || changed(manifest.files[f.role], digests.list)) : missing;
    if (opts.refresh) {
      const kept = entry.files.filter((f) => !stale.includes(f)).map((f) => manifest.files[f.role].name);
      log(`${name}: ${digests.url} fetched again; ${stale.length ? `new or changed: ${stale.map((f) => urlFileName(resolveUrl(f.url, entry, mirror))).join(', ')}` : 'nothing changed'}${kept.length ? `; unchanged: ${kept.join(', ')}` : ''}`);
    }
    for (const f of stale) {
      const url = resolveUrl(f.url, entry, mirror);
      const fileName = urlFileName(url);
      const expect = digestFor(digests.list, fileName);
      if (!expect) throw new LabError(`${digests.url} has no sha256 or sha512 line for ${fileName}`, { fix: `check the catalog entry ${name} in images/catalog.yaml` });
      const stored = await download(url, { expect, decompress: f.decompress, label: `${name} ${fileName}`, signal: opts.signal });
      const old = manifest.files[f.role];
      manifest.files[f.role] = {
        role: f.role,
        name: fileName,
        stored: storedName(f),
        url,
        sha256: stored.sha256,
        size: stored.size,
        source: { ...stored.source, name: fileName },
        verified: digests.by,
      };
      saveDigests(name, digests);
      writeManifest(manifest);
      if (old && old.sha256 !== stored.sha256) dropBlobIfUnused(old.sha256);
    }
    saveDigests(name, digests);
    const done = result(entry, manifest);
    log(`${name}: ${Object.keys(done.files).length} file(s) cached, verified by ${done.verified}`);
    return done;
  });
}

/** Whether the digest list now publishes another digest for a cached file than the one it was checked with. */
function changed(p: PulledFile, list: DigestList): boolean {
  const now = digestFor(list, p.source.name);
  return !now || p.source[now.algo] !== now.hex.toLowerCase();
}

/** The image's cached files without any request, or undefined with the release names of what is missing. */
export function cachedImage(name: string, catalog?: Catalog): { image?: PulledImage; missing: string[] } {
  const entry = downloadable(name, catalog);
  const manifest = readManifest(name);
  const missing = entry.files.filter((f) => !present(manifest, f)).map((f) => urlFileName(resolveUrl(f.url, entry)));
  return missing.length ? { missing } : { image: result(entry, manifest), missing };
}

/** Removes a cached blob that no image's record names any more (after a refresh replaced it). */
function dropBlobIfUnused(sha: string): void {
  const root = join(cacheDir(), 'pulled');
  for (const other of existsSync(root) ? readdirSync(root) : []) {
    if (Object.values(readManifest(other).files).some((p) => p.sha256 === sha)) return;
  }
  rmSync(blobPath(sha), { force: true });
}

function result(entry: CatalogEntry, m: Manifest): PulledImage {
  const files = entry.files.map((f) => m.files[f.role]);
  const recorded = Object.fromEntries(files.map((f) => [f.role, { name: f.name, sha256: f.sha256, size: f.size, verified: f.verified }]));
  return { name: entry.name, entry, files: Object.fromEntries(files.map((f) => [f.role, blobPath(f.sha256)])), verified: weakest(files), recorded };
}

/**
 * Puts a file fetched elsewhere into the cache as one of the image's files (matched by its name).
 * It is checked against the release's digests when they are cached or can be fetched; otherwise
 * it is refused, or with allowUnverified recorded as unverified with a warning.
 */
export async function importImage(name: string, file: string, opts: FetchOptions = {}): Promise<{ role: string; verified: Verification }> {
  const entry = downloadable(name, opts.catalog);
  if (!existsSync(file) || !statSync(file).isFile()) throw new LabError(`no such file: ${file}`);
  const given = basename(file);
  const names = entry.files.map((f) => ({ f, name: urlFileName(resolveUrl(f.url, entry)), stored: storedName(f) }));
  let match = names.find((n) => n.name === given);
  let compressed = !!match?.f.decompress;
  if (!match) {
    match = names.find((n) => n.stored === given) ?? (names.length === 1 ? names[0] : undefined);
    compressed = !!match?.f.decompress && given.endsWith(`.${match.f.decompress}`);
  }
  if (!match) {
    throw new LabError(`${given} is not one of ${name}'s files`, { fix: `name the file as the release does: ${names.map((n) => n.name).join(', ')}` });
  }
  const { f } = match;
  const releaseName = compressed || !f.decompress ? match.name : match.stored;
  const { digests, why } = await digestsFor(entry, opts);
  const expect = digests ? digestFor(digests.list, releaseName) : undefined;
  if (!expect && !opts.allowUnverified) {
    throw new LabError(`${name}: ${given} cannot be checked: ${why ?? `the digest list has no line for ${releaseName}`}; nothing was imported`, {
      fix: `import it where ${name}'s digest list can be fetched (without --offline, or with --mirror), or pass --allow-unverified to keep it UNVERIFIED (a run then refuses it unless given --allow-unverified too)`,
    });
  }
  const stored = await storeFile(file, { expect, decompress: compressed ? f.decompress : undefined, what: file });
  const verified: Verification = expect ? digests!.by : 'none';
  const manifest = readManifest(name);
  manifest.files[f.role] = {
    role: f.role,
    name: releaseName,
    stored: match.stored,
    importedFrom: file,
    sha256: stored.sha256,
    size: stored.size,
    source: { ...stored.source, name: releaseName },
    verified,
  };
  writeManifest(manifest);
  if (verified === 'none') warn(`${name}: imported ${given} UNVERIFIED: ${why ?? `the digest list has no line for ${releaseName}`}; run corelab images verify ${name} once it can be checked`);
  else log(`${name}: imported ${given} as its ${f.role}, verified by ${verified}`);
  return { role: f.role, verified };
}

/**
 * Re-hashes every cached file of the image, and checks the files not yet verified against the
 * release's digests (cached, or fetched unless offline). Throws when a file is missing or damaged.
 */
export async function verifyImage(name: string, opts: FetchOptions = {}): Promise<{ name: string; verified: Verification; files: Record<string, Verification> }> {
  const entry = downloadable(name, opts.catalog);
  const manifest = readManifest(name);
  const problems: string[] = [];
  for (const f of entry.files) {
    const p = manifest.files[f.role];
    if (!p || !existsSync(blobPath(p.sha256))) {
      problems.push(`${urlFileName(resolveUrl(f.url, entry))} (its ${f.role}) is not in the cache`);
      continue;
    }
    const h = createHash('sha256');
    for await (const chunk of createReadStream(blobPath(p.sha256))) h.update(chunk as Buffer);
    if (h.digest('hex') !== p.sha256) problems.push(`${p.stored} is damaged in the cache (its sha256 changed)`);
  }
  const unverified = Object.values(manifest.files).filter((p) => p.verified === 'none');
  if (unverified.length) {
    const { digests, why } = await digestsFor(entry, opts);
    for (const p of unverified) {
      const expect = digests && digestFor(digests.list, p.source.name);
      if (!expect) {
        warn(`${name}: ${p.name} stays unverified: ${why ?? `the digest list has no line for ${p.source.name}`}`);
        continue;
      }
      if (p.source[expect.algo] !== expect.hex) problems.push(`digest mismatch: the imported ${p.source.name} is not the release's (${expect.algo} differs)`);
      else p.verified = digests!.by;
    }
    writeManifest(manifest);
  }
  if (problems.length) throw new LabError(`${name} failed verification: ${problems.join('; ')}`, { fix: `corelab images rm ${name} && corelab images pull ${name}` });
  const files = Object.fromEntries(Object.values(manifest.files).map((p) => [p.role, p.verified]));
  return { name, verified: weakest(Object.values(manifest.files)), files };
}

/** Removes the image's cached files (those no other image shares) and its record; returns bytes freed. */
export function removeImage(name: string, opts: { catalog?: Catalog } = {}): number {
  downloadable(name, opts.catalog);
  const mine = Object.values(readManifest(name).files).map((p) => p.sha256);
  const others = new Set<string>();
  const root = join(cacheDir(), 'pulled');
  for (const other of existsSync(root) ? readdirSync(root) : []) {
    if (other !== name) for (const p of Object.values(readManifest(other).files)) others.add(p.sha256);
  }
  let freed = 0;
  const gone = new Set<string>();
  for (const sha of mine) {
    if (others.has(sha) || !existsSync(blobPath(sha))) continue;
    freed += statSync(blobPath(sha)).size;
    rmSync(blobPath(sha), { force: true });
    gone.add(sha);
  }
  const urls = join(downloadsDir(), 'urls');
  for (const f of existsSync(urls) ? readdirSync(urls) : []) {
    try {
      if (gone.has((JSON.parse(readFileSync(join(urls, f), 'utf8')) as { sha256: string }).sha256)) rmSync(join(urls, f), { force: true });
    } catch {
      /* a broken index record is harmless */
    }
  }
  rmSync(pulledDir(name), { recursive: true, force: true });
  log(`${name}: removed, ${mb(freed)} freed`);
  return freed;
}

/** Every catalog image with what the cache holds of it. */
export function listImages(opts: { catalog?: Catalog } = {}): ImageStatus[] {
  const catalog = opts.catalog ?? loadCatalog();
  return [...catalog.values()].map((entry): ImageStatus => {
    if (entry.build) {
      const built = findBuiltImage(entry.build);
      const size = built ? [built.disk, built.kernel, built.initrd].reduce((s, f) => s + (existsSync(f) ? statSync(f).size : 0), 0) : 0;
      return { name: entry.name, description: entry.description, kind: 'build', cached: !!built, size, missing: built ? [] : ['(not built yet: corelab images build)'] };
    }
    const m = readManifest(entry.name);
    const have = entry.files.map((f) => present(m, f)).filter((p): p is PulledFile => !!p);
    const missing = entry.files.filter((f) => !present(m, f)).map((f) => urlFileName(resolveUrl(f.url, entry)));
    return {
      name: entry.name,
      description: entry.description,
      kind: 'download',
      cached: missing.length === 0,
      size: have.reduce((s, p) => s + p.size, 0),
      verified: have.length ? weakest(have) : undefined,
      missing,
    };
  });
}
