import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What a file is recorded as: its size and sha256. */
export interface FileDigest {
  size: number;
  sha256: string;
}

/**
 * Verdicts of this process: path+size+mtime+inode → sha256. A run boots the same image on every
 * node, and hashing a 0.8 GB disk costs seconds, so each file is hashed once per process; a file
 * changed in between has another mtime (or size) and is hashed again.
 */
const seen = new Map<string, string>();

/** The sha256 of a file, streamed; remembered for this process while its size and mtime stay the same. */
export async function sha256File(path: string): Promise<FileDigest> {
  const st = statSync(path);
  const id = `${path}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const known = seen.get(id);
  if (known) return { size: st.size, sha256: known };
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const sha256 = h.digest('hex');
  seen.set(id, sha256);
  return { size: st.size, sha256 };
}

/** Size and sha256 of every regular file under dir (by relative path), except the names in skip. */
export async function folderDigests(dir: string, skip: string[] = []): Promise<Record<string, FileDigest>> {
  const out: Record<string, FileDigest> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.includes(rel)) continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out[rel] = await sha256File(p);
    }
  };
  await walk(dir);
  return out;
}
