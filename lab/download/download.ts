import { createHash, type Hash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as openpgp from 'openpgp';
import { LabError } from '../util/errors.js';
import { which } from '../host/tools.js';
import { withLock } from '../util/lock.js';
import { liveStatus, log } from '../util/log.js';
import { cacheDir } from '../util/paths.js';

/** How a downloaded file is compressed (it is stored decompressed). */
export type Decompress = 'bz2' | 'xz' | 'gz';

export type HashAlgo = 'sha256' | 'sha512';
export interface Digest {
  algo: HashAlgo;
  hex: string;
}

/** Digests of the bytes as fetched (before decompression). */
export interface SourceDigests {
  sha256: string;
  sha512: string;
  size: number;
}

/** A file in the content-addressed cache: cacheDir()/downloads/sha256/<sha256 of its content>. */
export interface Stored {
  path: string;
  sha256: string;
  size: number;
  source: SourceDigests;
}

export interface DownloadOptions {
  /** Checked before anything is kept; a mismatch leaves nothing in the cache. */
  expect?: Digest;
  decompress?: Decompress;
  /** Never touch the network: only the cache answers. */
  offline?: boolean;
  /** The fix line of the error when offline and not cached. */
  offlineFix?: string;
  /** Names the file in progress lines. */
  label?: string;
  /** Tries within one call when the connection breaks and the server can resume (default 5). */
  attempts?: number;
  signal?: AbortSignal;
}

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

/** sha256 + sha512 + byte count of a stream, fed by transform() or update(). */
class Hashes {
  private h256: Hash = createHash('sha256');
  private h512: Hash = createHash('sha512');
  size = 0;

  update(chunk: Buffer): void {
    this.h256.update(chunk);
    this.h512.update(chunk);
    this.size += chunk.length;
  }

  transform(onChunk?: () => void): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.update(chunk);
        onChunk?.();
        cb(null, chunk);
      },
    });
  }

  digests(): SourceDigests {
    return { sha256: this.h256.digest('hex'), sha512: this.h512.digest('hex'), size: this.size };
  }
}

interface PartMeta {
  url: string;
  validator?: string;
}

/** Fetches url into part, resuming what is there (with If-Range, so a changed file starts over). */
async function fetchToPart(url: string, part: string, opts: DownloadOptions): Promise<SourceDigests> {
  const metaFile = `${part}.json`;
  const attempts = opts.attempts ?? 5;
  const progress = new Progress(opts.label ?? url);
  try {
    for (let attempt = 1; ; attempt++) {
      let have = existsSync(part) ? statSync(part).size : 0;
      const meta = have ? readMeta(metaFile) : undefined;
      if (have && meta?.url !== url) {
        rmSync(part, { force: true });
        have = 0;
      }
      const headers: Record<string, string> = {};
      if (have) {
        headers.range = `bytes=${have}-`;
        if (meta?.validator) headers['if-range'] = meta.validator;
      }
      const res = await request(url, headers, opts.signal);
      if (res.status === 416 && have) {
        await res.body?.cancel();
        rmSync(part, { force: true });
        continue;
      }
      if (!res.ok) throw await httpError(url, res);
      let start = 0;
      let total = Number(res.headers.get('content-length') ?? NaN);
      if (res.status === 206) {
        const m = (res.headers.get('content-range') ?? '').match(/^bytes (\d+)-\d+\/(\d+|\*)/);
        start = m ? Number(m[1]) : -1;
        if (start !== have) {
          await res.body?.cancel();
          rmSync(part, { force: true });
          continue;
        }
        total = m && m[2] !== '*' ? Number(m[2]) : NaN;
        log(`resuming ${opts.label ?? url} at ${mb(have)}`);
      }
      const canResume = res.status === 206 || res.headers.get('accept-ranges') === 'bytes';
      const validator = res.headers.get('etag') ?? res.headers.get('last-modified') ?? undefined;
      writeFileSync(metaFile, JSON.stringify({ url, validator } satisfies PartMeta));

      const hashes = new Hashes();
      if (start > 0) for await (const chunk of createReadStream(part, { end: start - 1 })) hashes.update(chunk as Buffer);
      progress.begin(start, Number.isNaN(total) ? undefined : total);
      try {
        if (!res.body) throw new Error('empty response');
        await pipeline(
          Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
          hashes.transform(() => progress.update(hashes.size)),
          createWriteStream(part, { flags: start > 0 ? 'a' : 'w' }),
          { signal: opts.signal },
        );
        if (!Number.isNaN(total) && hashes.size !== total) throw new Error(`got ${hashes.size} of ${total} bytes`);
        progress.finish(hashes.size);
        return hashes.digests();
      } catch (err) {
        if (opts.signal?.aborted) throw new LabError(`interrupted while downloading ${url}; the partial file is kept and the next pull resumes it`);
        const got = existsSync(part) ? statSync(part).size : 0;
        const said = `the download of ${url} broke off after ${mb(got)}${Number.isNaN(total) ? '' : ` of ${mb(total)}`} (${describe(err)})`;
        if (!canResume) {
          rmSync(part, { force: true });
          rmSync(metaFile, { force: true });
          throw new LabError(`${said}, and the server cannot resume (no Range support); nothing was kept`, { fix: 'pull again, or use a --mirror that supports resuming' });
        }
        if (attempt >= attempts) throw new LabError(`${said}; ${attempts} tries failed`, { fix: 'pull again later: the partial file is kept and the next pull resumes it' });
        log(`${said}; resuming`);
      }
    }
  } finally {
    progress.stop();
  }
}

function readMeta(file: string): PartMeta | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PartMeta;
  } catch {
    return undefined;
  }
}

async function request(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw new LabError(`interrupted while fetching ${url}`);
    throw new LabError(`could not reach ${url}: ${describe(err)}`, { cause: err, fix: MIRROR_FIX });
  }
}

const MIRROR_FIX = 'use --mirror URL (or CORELAB_IMAGE_MIRROR) for a mirror that has the file, or fetch it elsewhere and run corelab images import NAME FILE, then use --offline';

async function httpError(url: string, res: Response): Promise<LabError> {
  await res.body?.cancel();
  const what = `${res.status} ${res.statusText}`.trim();
  if (res.status === 404 || res.status === 410) return new LabError(`${url} answered ${what}: the file is not there`, { fix: MIRROR_FIX });
  return new LabError(`${url} answered ${what}`, { fix: MIRROR_FIX });
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message}: ${cause}` : String(e?.message ?? err);
}

/** A small file (a digest list or signature) fetched whole, never cached here. */
export async function fetchBytes(url: string, opts: { offline?: boolean; signal?: AbortSignal } = {}): Promise<Buffer> {
  if (opts.offline) throw new LabError(`offline: will not fetch ${url}`, { fix: MIRROR_FIX });
  const res = await request(url, {}, opts.signal);
  if (!res.ok) throw await httpError(url, res);
  return Buffer.from(await res.arrayBuffer());
}

/** Progress: a live bar on a terminal, elsewhere a log line every 10 s or 10%. */
class Progress {
  private readonly tty = !!process.stderr.isTTY && process.env.TERM !== 'dumb';
  private t0 = 0;
  private from = 0;
  private got = 0;
  private total?: number;
  private lastLog = 0;
  private lastTenth = 0;
  private live = false;

  constructor(private label: string) {}

  begin(from: number, total?: number): void {
    [this.t0, this.from, this.got, this.total, this.lastLog] = [Date.now(), from, from, total, Date.now()];
    this.lastTenth = total ? Math.floor((10 * from) / total) : 0;
    if (this.tty && !this.live) {
      this.live = true;
      liveStatus(() => this.line(true));
    }
  }

  update(got: number): void {
    this.got = got;
    if (this.tty || (this.total !== undefined && this.total < 10e6)) return; // small files: just the closing line
    const tenth = this.total ? Math.floor((10 * got) / this.total) : 0;
    if (Date.now() - this.lastLog >= 10_000 || tenth > this.lastTenth) {
      [this.lastLog, this.lastTenth] = [Date.now(), tenth];
      log(this.line(false));
    }
  }

  finish(size: number): void {
    this.got = size;
    this.stop();
    log(`downloaded ${this.label}: ${mb(size)} in ${((Date.now() - this.t0) / 1000).toFixed(1)}s`);
  }

  stop(): void {
    if (this.live) liveStatus(undefined);
    this.live = false;
  }

  private line(bar: boolean): string {
    const secs = Math.max(0.001, (Date.now() - this.t0) / 1000);
    const rate = (this.got - this.from) / secs;
    const pct = this.total ? this.got / this.total : undefined;
    const eta = this.total && rate > 0 ? `ETA ${clock((this.total - this.got) / rate)}` : '';
    const graph = bar && pct !== undefined ? `[${'#'.repeat(Math.round(pct * 20)).padEnd(20, '.')}] ` : '';
    const pctText = pct !== undefined ? `${(pct * 100).toFixed(0)}% ` : '';
    return `${this.label} ${graph}${pctText}${mb(this.got)}${this.total ? `/${mb(this.total)}` : ''} ${mb(rate)}/s ${eta}`.trim();
  }
}

export function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

function clock(s: number): string {
  s = Math.round(s);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

// ---- digest lists and their signatures ----

const ALGO_HEX: Record<string, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

export type DigestList = Map<string, Partial<Record<HashAlgo, string>>>;

/**
 * A release's checksum list: Flatcar's DIGESTS (`# SHA512 HASH` headers, then `<hex>  <file>`),
 * RancherOS's checksums.txt (`sha256: <hex>  <file>`), or plain sha256sum/sha512sum output.
 * MD5 and SHA1 lines are read past.
 */
export function parseDigests(text: string): DigestList {
  const list: DigestList = new Map();
  let header: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const h = line.match(/^#\s*([A-Za-z0-9]+)\s+HASH\s*$/i);
    if (h) {
      header = h[1].toLowerCase();
      continue;
    }
    const m = line.match(/^(?:([a-z0-9]+):\s+)?([0-9a-fA-F]{32,128})\s+\*?(.+)$/);
    if (!m) continue;
    const hex = m[2].toLowerCase();
    const byLength = ({ 64: 'sha256', 128: 'sha512' } as Record<number, string>)[hex.length];
    const algo = m[1]?.toLowerCase() ?? (header && ALGO_HEX[header] === hex.length ? header : byLength);
    if ((algo !== 'sha256' && algo !== 'sha512') || hex.length !== (algo === 'sha256' ? 64 : 128)) continue;
    const name = m[3].trim().split('/').pop()!;
    list.set(name, { ...list.get(name), [algo]: hex });
  }
  return list;
}

/** The strongest digest the list gives for name. */
export function digestFor(list: DigestList, name: string): Digest | undefined {
  const d = list.get(name);
  if (d?.sha512) return { algo: 'sha512', hex: d.sha512 };
  if (d?.sha256) return { algo: 'sha256', hex: d.sha256 };
  return undefined;
}

/** Armored OpenPGP public keys; what names where they came from, for errors. */
export async function readPublicKeys(armored: string, what: string): Promise<openpgp.Key[]> {
  try {
    return await openpgp.readKeys({ armoredKeys: armored });
  } catch (err) {
    throw new LabError(`${what} is not an armored OpenPGP public key: ${(err as Error).message}`, { fix: 'use the .asc key file as published (it starts with -----BEGIN PGP PUBLIC KEY BLOCK-----)' });
  }
}

/** The text of a clearsigned message, once its signature checks out with one of keys (at date, default now). */
export async function verifyClearsigned(text: string, keys: openpgp.Key[], what: string, date?: Date): Promise<string> {
  try {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: text });
    const result = await openpgp.verify({ message, verificationKeys: keys, expectSigned: true, date });
    return String(result.data);
  } catch (err) {
    throw signatureError(what, err);
  }
}

/** Checks a detached signature (armored or binary) over data (at date, default now). */
export async function verifyDetached(data: Uint8Array, signature: Uint8Array, keys: openpgp.Key[], what: string, date?: Date): Promise<void> {
  try {
    const text = Buffer.from(signature).toString('latin1');
    const sig = text.startsWith('-----BEGIN PGP SIGNATURE') ? await openpgp.readSignature({ armoredSignature: text }) : await openpgp.readSignature({ binarySignature: signature });
    const message = await openpgp.createMessage({ binary: data });
    await openpgp.verify({ message, signature: sig, verificationKeys: keys, expectSigned: true, format: 'binary', date });
  } catch (err) {
    throw signatureError(what, err);
  }
}

function signatureError(what: string, err: unknown): LabError {
  return new LabError(`signature check failed for ${what}: ${(err as Error).message}`, {
    cause: err,
    fix: 'nothing was downloaded or kept. The file was tampered with or damaged (use another --mirror), or it was signed by a key you did not mean (check --key FILE)',
  });
}
