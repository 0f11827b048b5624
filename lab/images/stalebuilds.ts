import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { alive } from '../util/lock.js';
import { log } from '../util/log.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { imagesDir } from './store.js';

/**
 * A build runs in its own process group (build.sh and mmdebstrap under it), which a kill -9 of
 * corelab does not reach. So each build leaves a marker naming its owner and its group while it
 * runs, and the next corelab command stops the group of an owner that is gone (TERM first, so
 * build.sh unmounts and removes its work folder) and removes its half-built output. The marker
 * also names the build's scratch folder, which that command removes when build.sh could not
 * (killed before its trap ran, or stopped by the KILL that follows a TERM it outlived).
 */
export function markBuild(pgid: number, scratch: string): () => void {
  const marker = join(imagesDir(), `build-${process.pid}-${pgid}.running`);
  writeFileSync(marker, scratch);
  return () => rmSync(marker, { force: true });
}

/**
 * Removes a build's scratch folder (named `<image>-build.XXXXXX`), first detaching whatever is
 * still mounted below it (mmdebstrap's /dev, /proc, /sys), and never crossing into another file
 * system, so a mount that could not be detached is left alone rather than emptied.
 */
export function removeBuildScratch(dir: string): void {
  if (!dir || !isAbsolute(dir) || !/-build\.[A-Za-z0-9]+$/.test(basename(dir)) || !existsSync(dir)) return;
  const below = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(dir + '/'))
    .sort()
    .reverse();
  for (const m of below) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  spawnSync('rm', ['-rf', '--one-file-system', dir], { stdio: 'ignore' });
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
    const scratch = readFileSync(join(dir, f), 'utf8').trim();
    if (groupAlive(pgid)) {
      log(`stopping image build process group ${pgid}, left running by corelab process ${m[1]}, which is gone`);
      process.kill(-pgid, 'SIGTERM');
      await waitUntil(`build process group ${pgid} to stop`, async () => {
        if (groupAlive(pgid)) throw new NotYet('still running');
      }, { timeoutMs: 30_000, intervalMs: 250 }).catch(() => process.kill(-pgid, 'SIGKILL'));
      stopped++;
    }
    removeBuildScratch(scratch);
    rmSync(join(dir, f), { force: true });
  }
  for (const f of readdirSync(dir)) {
    const m = f.match(/\.partial-(\d+)$/);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, f), { recursive: true, force: true });
  }
  return stopped;
}
