import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../util/lock.js';
import { log } from '../util/log.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { imagesDir } from './store.js';

/**
 * A build runs in its own process group (build.sh and mmdebstrap under it), which a kill -9 of
 * corelab does not reach. So each build leaves a marker naming its owner and its group while it
 * runs, and the next corelab command stops the group of an owner that is gone (TERM first, so
 * build.sh unmounts and removes its work folder) and removes its half-built output.
 */
export function markBuild(pgid: number): () => void {
  const marker = join(imagesDir(), `build-${process.pid}-${pgid}.running`);
  writeFileSync(marker, '');
  return () => rmSync(marker, { force: true });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops the builds of corelab processes that are gone; returns how many it stopped. */
export async function cleanStaleBuilds(): Promise<number> {
  const dir = imagesDir();
  if (!existsSync(dir)) return 0;
  let stopped = 0;
  for (const f of readdirSync(dir)) {
    const m = f.match(/^build-(\d+)-(\d+)\.running$/);
    if (!m || alive(Number(m[1]))) continue;
    const pgid = Number(m[2]);
    if (groupAlive(pgid)) {
      log(`stopping image build process group ${pgid}, left running by corelab process ${m[1]}, which is gone`);
      process.kill(-pgid, 'SIGTERM');
      await waitUntil(`build process group ${pgid} to stop`, async () => {
        if (groupAlive(pgid)) throw new NotYet('still running');
      }, { timeoutMs: 30_000, intervalMs: 250 }).catch(() => process.kill(-pgid, 'SIGKILL'));
      stopped++;
    }
    rmSync(join(dir, f), { force: true });
  }
  for (const f of readdirSync(dir)) {
    const m = f.match(/\.partial-(\d+)$/);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, f), { recursive: true, force: true });
  }
  return stopped;
}
