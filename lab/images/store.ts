import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cacheDir, PROJECT_DIR } from '../util/paths.js';
import { LabError } from '../util/errors.js';
import { folderDigests } from './filehash.js';

/** A bootable image in the cache: a qcow2 base for overlays, plus kernel/initrd for direct kernel boot. */
export interface ImageFiles {
  name: string;
  dir: string;
  disk: string;
  kernel: string;
  /** The dracut initramfs with Ignition, for nodes with an Ignition config. */
  initrd: string;
  /** The busybox initramfs (mount ROOT and /usr, switch_root), for every other node. */
  plainInitrd: string;
  cmdline: string;
  key: string;
}

export function recipeDir(name: string): string {
  return join(PROJECT_DIR, 'images', name);
}

/**
 * Hash of every file of a recipe folder (paths and contents) but its README.md files, which the
 * build never reads: the cache key of what it builds.
 */
export function recipeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .filter((e) => e.isDirectory() || e.name !== 'README.md')
      .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  if (!existsSync(dir)) throw new LabError(`no image recipe at ${dir}`);
  for (const f of walk(dir)) {
    const st = statSync(f);
    h.update(`${relative(dir, f)}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

export function imagesDir(): string {
  return join(cacheDir(), 'images');
}

export function builtImageDir(name: string, key: string): string {
  return join(imagesDir(), `${name}-${key.slice(0, 16)}`);
}

/** The files a node boots from a build: its disk, kernel, both initramfs images and command line. */
export function bootFiles(img: ImageFiles): string[] {
  return [img.disk, img.kernel, img.initrd, img.plainInitrd, join(img.dir, 'cmdline')];
}

/** The cached build of a recipe, if it is complete. */
export function findBuiltImage(name: string, key = recipeHash(recipeDir(name))): ImageFiles | undefined {
  const dir = builtImageDir(name, key);
  const files = imageFilesIn(name, dir, key);
  return files && bootFiles(files).every((f) => existsSync(f)) && existsSync(join(dir, 'image.json')) ? files : undefined;
}

export function imageFilesIn(name: string, dir: string, key: string): ImageFiles | undefined {
  const cmdlineFile = join(dir, 'cmdline');
  if (!existsSync(cmdlineFile)) return undefined;
  return {
    name,
    dir,
    key,
    disk: join(dir, 'disk.qcow2'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    plainInitrd: join(dir, 'initrd-plain.img'),
    cmdline: readFileSync(cmdlineFile, 'utf8').trim().replace(/\s+/g, ' '),
  };
}

/** The build's image.json: what the recipe says, plus the size and sha256 of every file it made (checked at each use). */
export async function writeImageManifest(dir: string, manifest: Record<string, unknown>): Promise<void> {
  const files = await folderDigests(dir, ['image.json']);
  writeFileSync(join(dir, 'image.json'), JSON.stringify({ ...manifest, files }, null, 2) + '\n');
}
