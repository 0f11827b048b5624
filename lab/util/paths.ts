import { homedir } from 'node:os';
import { join, relative, resolve, dirname, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's own folder (where images/ and scenarios/ live). */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A file as messages name it: relative to the working folder when it is inside it, else absolute
 * (a path that climbs out, ../../tmp/x, says less and changes with where the command runs).
 */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel : resolve(file);
}

/** Cache for images and other downloaded or built artifacts: $CORELAB_CACHE, else $XDG_CACHE_HOME/corelab. */
export function cacheDir(): string {
  if (process.env.CORELAB_CACHE) return resolve(process.env.CORELAB_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'corelab');
}
