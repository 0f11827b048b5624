import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { blobPath, writeAtomic } from '../download/download.js';
import { LabError } from '../util/errors.js';
import { log, warn } from '../util/log.js';
import { folderDigests, sha256File, type FileDigest } from './filehash.js';
import type { PulledImage } from './fetch.js';
import { bootFiles, type ImageFiles } from './store.js';

/**
 * Checks at each use: before a run boots an image, every file of it is hashed again (once per
 * process, see filehash.ts) and compared with what was recorded when it was pulled, imported or
 * built. A file altered on disk since is refused, naming it and the digest it should have.
 */

/** Why path is not the file recorded, or undefined when it is. */
async function mismatch(path: string, want: FileDigest): Promise<string | undefined> {
  if (!existsSync(path)) return 'it is gone';
  const size = statSync(path).size;
  if (size !== want.size) return `it has ${size} bytes instead of ${want.size}`;
  const got = await sha256File(path);
  return got.sha256 === want.sha256 ? undefined : `it now hashes to ${got.sha256}`;
}

/**
 * A downloaded image's files against the sizes and sha256s its cache record holds; an image with a
 * file never checked against the release's digests is refused unless allowUnverified.
 */
export async function checkPulledImage(image: PulledImage, opts: { allowUnverified?: boolean } = {}): Promise<void> {
  for (const [role, rec] of Object.entries(image.recorded)) {
    const path = blobPath(rec.sha256);
    const why = await mismatch(path, rec);
    if (why) {
      throw new LabError(`${path} (${image.name}'s ${role}, ${rec.name}) was altered on disk after it was pulled: expected sha256 ${rec.sha256} (${rec.size} bytes), but ${why}`, {
        fix: `a run never boots an altered image: corelab images rm ${image.name} && corelab images pull ${image.name}`,
      });
    }
  }
  const unverified = Object.entries(image.recorded).filter(([, r]) => r.verified === 'none');
  if (!unverified.length) return;
  const names = unverified.map(([role, r]) => `${r.name} (its ${role})`).join(', ');
  if (!opts.allowUnverified) {
    throw new LabError(`${image.name} is UNVERIFIED: ${names} was imported without a digest to check it against`, {
      fix: `corelab images verify ${image.name} (checks it against the release's digest list), or run with --allow-unverified to boot it anyway`,
    });
  }
  warn(`${image.name}: booting UNVERIFIED ${names}, as --allow-unverified asks`);
}

/** The files a run boots from a labos build folder: what its image.json records (disk, kernel, initrd, cmdline, ...). */
export async function checkBuiltImage(img: ImageFiles): Promise<void> {
  const manifestFile = join(img.dir, 'image.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown> & { files?: Record<string, FileDigest> };
  if (!manifest.files) {
    // Built before digests were recorded: hash it once now (cheaper than a rebuild) and record that.
    const files = await folderDigests(img.dir, ['image.json']);
    writeAtomic(manifestFile, JSON.stringify({ ...manifest, files, filesRecordedAt: new Date().toISOString() }, null, 2) + '\n');
    log(`${img.name} cache ${img.dir} was built before image digests were recorded: hashed its ${Object.keys(files).length} files once and recorded them in image.json (corelab images build ${img.name} --force rebuilds it instead)`);
    return;
  }
  for (const f of bootFiles(img)) {
    const rel = f.slice(img.dir.length + 1);
    if (!manifest.files[rel]) throw alteredBuild(img, f, `${rel} is not in image.json's list of files`);
  }
  for (const [rel, want] of Object.entries(manifest.files)) {
    const why = await mismatch(join(img.dir, rel), want);
    if (why) throw alteredBuild(img, join(img.dir, rel), `expected sha256 ${want.sha256} (${want.size} bytes), but ${why}`);
  }
}

function alteredBuild(img: ImageFiles, file: string, why: string): LabError {
  return new LabError(`${file} was altered after the ${img.name} image was built: ${why}`, {
    fix: `a run never boots an altered image: corelab images build ${img.name} --force (builds it again from its recipe)`,
  });
}
