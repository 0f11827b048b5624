// A build whose corelab process was killed: the next command stops its process group and removes
// its scratch folder even when the script died before it could (signals.vm checks the whole path
// with a real mmdebstrap; this checks the part that a fast build.sh usually hides).
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cache = mkdtempSync(join(tmpdir(), 'corelab-stalebuilds-'));
process.env.CORELAB_CACHE = cache;
const { cleanStaleBuilds, markBuild, removeBuildScratch } = await import('../lab/images/stalebuilds.js');
const { imagesDir } = await import('../lab/images/store.js');
test.after.always(() => rmSync(cache, { recursive: true, force: true }));

/** The pid of a process that has come and gone. */
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((r) => p.on('close', r));
  return p.pid!;
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

test.serial('the build of a corelab process that is gone: its group is stopped and its scratch folder removed, though the script left it', async (t) => {
  mkdirSync(imagesDir(), { recursive: true });
  const scratch = mkdtempSync(join(cache, 'labos-build.'));
  mkdirSync(join(scratch, 'root', 'etc'), { recursive: true });
  writeFileSync(join(scratch, 'root', 'etc', 'hostname'), 'labos\n');
  // A "build" that dies at TERM without cleaning up, as build.sh does when it is killed outright.
  const group = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  t.teardown(() => groupAlive(group.pid!) && process.kill(-group.pid!, 'SIGKILL'));
  const owner = await deadPid();
  writeFileSync(join(imagesDir(), `build-${owner}-${group.pid}.running`), scratch);
  writeFileSync(join(imagesDir(), 'labos-0123.partial-' + owner), '');

  t.is(await cleanStaleBuilds(), 1, 'one build stopped');
  t.false(groupAlive(group.pid!), 'its process group is gone');
  t.false(existsSync(scratch), 'its scratch folder is gone');
  t.deepEqual(readdirSync(imagesDir()), [], 'no marker, no half-built image');
});

test.serial("a live owner's build is left alone", async (t) => {
  const scratch = mkdtempSync(join(cache, 'labos-build.'));
  const group = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  t.teardown(() => groupAlive(group.pid!) && process.kill(-group.pid!, 'SIGKILL'));
  const unmark = markBuild(group.pid!, scratch);
  t.teardown(unmark);
  t.is(await cleanStaleBuilds(), 0);
  t.true(groupAlive(group.pid!));
  t.true(existsSync(scratch));
});

test.serial('removing a scratch folder touches nothing outside it: only folders named <image>-build.X, never across a mount', (t) => {
  const other = mkdtempSync(join(cache, 'keep-'));
  writeFileSync(join(other, 'precious'), 'x');
  removeBuildScratch(other);
  t.true(existsSync(join(other, 'precious')), 'a folder not named like a build scratch folder is kept');
  removeBuildScratch('labos-build.rel');
  t.pass();

  if (process.getuid?.() !== 0) {
    t.log('the bind-mount half of this test needs root to mount; it ran the name checks only');
    return;
  }
  const scratch = mkdtempSync(join(cache, 'labos-build.'));
  mkdirSync(join(scratch, 'root', 'dev'), { recursive: true });
  const bind = spawnSync('mount', ['--bind', other, join(scratch, 'root', 'dev')]);
  t.teardown(() => void spawnSync('umount', ['-l', join(scratch, 'root', 'dev')], { stdio: 'ignore' }));
  t.is(bind.status, 0, String(bind.stderr));
  removeBuildScratch(scratch);
  t.false(existsSync(scratch), 'the scratch folder is gone');
  t.true(existsSync(join(other, 'precious')), 'what was mounted below it is untouched');
});
