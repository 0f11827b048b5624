/**
 * The download layer (lab/download/): getting files from the network into the cache, verified:
 * the content-addressed store and its URL index (this file), resumable HTTP with progress
 * (http.ts), hashing (hashes.ts) and signed digest lists (digests.ts). It imports host/ and below,
 * never images/ (which uses it).
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { LabError } from '../util/errors.js';
import { which } from '../host/tools.js';
import { withLock } from '../util/lock.js';
import { cacheDir } from '../util/paths.js';
import { Hashes } from './hashes.js';
import { fetchToPart } from './http.js';
import type { Decompress, Digest, DownloadOptions, SourceDigests, Stored } from './types.js';

export type * from './types.js';
export { mb } from './hashes.js';
export { fetchBytes } from './http.js';
export * from './digests.js';

export function downloadsDir(): string {
  return join(cacheDir(), 'downloads');
}

export function blobPath(sha256: string): string {
  return join(downloadsDir(), 'sha256', sha256);
}

function dir(sub: string): string {
  const d = join(downloadsDir(), sub);
  mkdirSync(d, { recursive: true });
  return d;
}

const sha256Of = (s: string): string => createHash('sha256').update(s).digest('hex');
const indexFile = (url: string): string => join(downloadsDir(), 'urls', `${sha256Of(url)}.json`);

interface IndexRecord extends Stored {
  url: string;
  decompress?: Decompress;
}

/** The cached result of an earlier download of url (matching expect, when given), without any request. */
export function cachedDownload(url: string, expect?: Digest, decompress?: Decompress): Stored | undefined {
  let rec: IndexRecord;
  try {
    rec = JSON.parse(readFileSync(indexFile(url), 'utf8')) as IndexRecord;
  } catch {
    return undefined;
  }
  if (rec.url !== url || rec.decompress !== decompress || !existsSync(blobPath(rec.sha256))) return undefined;
  if (expect && rec.source[expect.algo] !== expect.hex.toLowerCase()) return undefined;
  return { path: blobPath(rec.sha256), sha256: rec.sha256, size: rec.size, source: rec.source };
}

/**
 * Fetches url into the content-addressed cache and returns where it is. Streams, shows progress,
 * hashes while streaming, resumes a broken transfer with Range (also one left by an earlier run),
 * checks expect, decompresses, and renames into place only when all is well. Two processes never
 * fetch the same URL at once. A cached result is returned without any request.
 */
export async function download(url: string, opts: DownloadOptions = {}): Promise<Stored> {
  const hit = cachedDownload(url, opts.expect, opts.decompress);
  if (hit) return hit;
  if (opts.offline) {
    throw new LabError(`offline: ${url} is not in the download cache`, { fix: opts.offlineFix ?? 'run again without --offline, or import the file with corelab images import NAME FILE' });
  }
  const key = sha256Of(url);
  return withLock(`download-${key.slice(0, 16)}`, async () => {
    const again = cachedDownload(url, opts.expect, opts.decompress);
    if (again) return again;
    const part = join(dir('partial'), `${key}.part`);
    const source = await fetchToPart(url, part, opts);
    const stored = await keep(part, source, { ...opts, what: url });
    writeIndex(url, stored, opts.decompress);
    return stored;
  }, opts.signal);
}

function writeIndex(url: string, stored: Stored, decompress?: Decompress): void {
  dir('urls');
  const rec: IndexRecord = { url, decompress, ...stored };
  writeAtomic(indexFile(url), JSON.stringify(rec, null, 2) + '\n');
}

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Copies a local file into the content-addressed cache (hashing as it goes), checked against
 * expect and decompressed like a download: what `corelab images import` uses.
 */
export async function storeFile(file: string, opts: { expect?: Digest; decompress?: Decompress; what?: string } = {}): Promise<Stored> {
  if (!existsSync(file)) throw new LabError(`no such file: ${file}`);
  const tmp = join(dir('tmp'), `import-${process.pid}-${Date.now()}`);
  const hashes = new Hashes();
  try {
    await pipeline(createReadStream(file), hashes.transform(), createWriteStream(tmp));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return keep(tmp, hashes.digests(), { ...opts, what: opts.what ?? file });
}

/** Checks a finished raw file, then moves (or decompresses) it into the cache; the raw file is always gone after. */
async function keep(raw: string, source: SourceDigests, opts: { expect?: Digest; decompress?: Decompress; what: string }): Promise<Stored> {
  try {
    if (opts.expect) {
      const want = opts.expect.hex.toLowerCase();
      const got = source[opts.expect.algo];
      if (got !== want) {
        throw new LabError(`digest mismatch for ${opts.what}: the release's ${opts.expect.algo} is ${want}, the ${source.size} bytes received hash to ${got}`, {
          fix: 'nothing was kept; pull again (a proxy or mirror may serve a damaged or different file; try another --mirror)',
        });
      }
    }
    if (!opts.decompress) {
      const dest = blobPath(source.sha256);
      dir('sha256');
      if (existsSync(dest)) rmSync(raw, { force: true });
      else renameSync(raw, dest);
      return { path: dest, sha256: source.sha256, size: source.size, source };
    }
    const tmp = `${raw}.out`;
    try {
      const out = await decompressFile(raw, tmp, opts.decompress, opts.what);
      const dest = blobPath(out.sha256);
      dir('sha256');
      if (existsSync(dest)) rmSync(tmp, { force: true });
      else renameSync(tmp, dest);
      return { path: dest, sha256: out.sha256, size: out.size, source };
    } finally {
      rmSync(tmp, { force: true });
    }
  } finally {
    rmSync(raw, { force: true });
    rmSync(`${raw}.json`, { force: true });
  }
}

const TOOLS: Record<'bz2' | 'xz', { cmd: string; pkg: string }> = { bz2: { cmd: 'bzip2', pkg: 'bzip2' }, xz: { cmd: 'xz', pkg: 'xz-utils' } };

async function decompressFile(src: string, dest: string, kind: Decompress, what: string): Promise<{ sha256: string; size: number }> {
  const hashes = new Hashes();
  if (kind === 'gz') {
    try {
      await pipeline(createReadStream(src), createGunzip(), hashes.transform(), createWriteStream(dest));
    } catch (err) {
      throw new LabError(`could not gunzip ${what}: ${(err as Error).message}`, { cause: err });
    }
    return hashes.digests();
  }
  const tool = TOOLS[kind];
  if (!which(tool.cmd)) throw new LabError(`decompressing ${what} needs ${tool.cmd}, which is not installed`, { fix: `sudo apt-get install -y ${tool.pkg}` });
  const fd = openSync(src, 'r');
  const child = spawn(tool.cmd, ['-dc'], { stdio: [fd, 'pipe', 'pipe'] });
  closeSync(fd);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await pipeline(child.stdout!, hashes.transform(), createWriteStream(dest));
  } finally {
    const code = await exited;
    if (code !== 0) throw new LabError(`${tool.cmd} could not decompress ${what} (exit ${code}): ${stderr.trim()}`);
  }
  return hashes.digests();
}

