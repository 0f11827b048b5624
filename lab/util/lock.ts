import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './paths.js';
import { log } from './log.js';
import { NotYet, waitUntil } from './poll.js';

/** How long a build or download waits for another process that holds its lock. */
const LOCK_WAIT_MS = 6 * 3_600_000;

/**
 * A cross-process lock (a directory holding the owner's pid), so two runs never build or
 * download the same thing at once. A lock whose owner is gone is taken over.
 */
export async function withLock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const dir = join(cacheDir(), 'locks', `${name}.lock`);
  mkdirSync(join(cacheDir(), 'locks'), { recursive: true });
  let told = false;
  await waitUntil(`the ${name} lock`, async () => {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSafe(join(dir, 'pid')));
    if (owner && !alive(owner)) {
      rmSync(dir, { recursive: true, force: true });
      throw new NotYet('its owner is gone; taking it over');
    }
    if (!told) log(`waiting for process ${owner || '?'} which holds the ${name} lock`);
    told = true;
    throw new NotYet(`held by process ${owner || '?'}`);
  }, { timeoutMs: LOCK_WAIT_MS, intervalMs: 2000, signal });
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readFileSafe(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
