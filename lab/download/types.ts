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

