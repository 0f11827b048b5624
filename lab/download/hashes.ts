import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { SourceDigests } from './types.js';

/** sha256 + sha512 + byte count of a stream, fed by transform() or update(). */
export class Hashes {
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

export function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

export function clock(s: number): string {
  s = Math.round(s);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

