import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's own folder (where images/ and scenarios/ live). */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cache for images and other downloaded or built artifacts: $CORELAB_CACHE, else $XDG_CACHE_HOME/corelab. */
export function cacheDir(): string {
  if (process.env.CORELAB_CACHE) return resolve(process.env.CORELAB_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'corelab');
}
