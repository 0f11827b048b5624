import { createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LabError } from '../util/errors.js';
import { liveStatus, log } from '../util/log.js';
import { createReadStream } from 'node:fs';
import { Hashes, clock, mb } from './hashes.js';
import type { DownloadOptions, SourceDigests } from './types.js';

interface PartMeta {
  url: string;
  validator?: string;
}

/** Fetches url into part, resuming what is there (with If-Range, so a changed file starts over). */
export async function fetchToPart(url: string, part: string, opts: DownloadOptions): Promise<SourceDigests> {
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

