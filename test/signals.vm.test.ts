// The signal matrix on real VMs (issue 15): SIGINT, SIGTERM and SIGKILL of `corelab run` while it
// builds the image, boots, runs a step, saves and restores a checkpoint; after the next corelab
// command nothing of the lab is left (no QEMU, vde_switch, etcd, registry, mmdebstrap, lab folder
// or unfinished checkpoint). Then a second Ctrl-C during teardown, and trouble inside a run: no
// checkpoint while a node is paused, exit: nonzero, a step timeout, a kernel panic and a failed unit in a step.
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_ENV, assertLabGone, corelab, outputUntil, processesMentioning } from './helpers/lab.js';
import { tempTree } from './helpers/files.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const;
const unfinished = () => (existsSync(LAB_ENV.CORELAB_CHECKPOINTS) ? readdirSync(LAB_ENV.CORELAB_CHECKPOINTS).filter((d) => d.startsWith('.tmp-')) : []);

/** Starts a run, waits for its output to reach `when`, sends `sig`, then runs the next command (status). */
async function interrupt(t: import('ava').ExecutionContext, args: string[], when: RegExp, sig: (typeof SIGNALS)[number], env: Record<string, string> = {}, beforeNext?: () => void) {
  const child = corelab(args, env);
  const seen = await outputUntil(child, when);
  t.regex(seen, when, `the run got to ${when}`);
  child.kill(sig);
  const r = await child;
  beforeNext?.();
  if (sig === 'SIGKILL') t.is(r.signal, 'SIGKILL');
  else {
    t.is(r.exitCode, 130, `${sig} exits 130`);
    t.regex(r.all, new RegExp(`${sig}: stopping; tearing the lab down`));
  }
  const next = await corelab(['status'], env);
  t.is(next.exitCode, 0, next.all);
  t.log(next.all.split('\n').filter((l) => /cleaned|ignoring|stopping/.test(l)).join('\n'));
  return { r, next };
}

for (const sig of SIGNALS) {
  test.serial(`${sig} while the guest boots, then the next command: nothing is left`, async (t) => {
    const { r } = await interrupt(t, ['run', '--cold', 'test/fixtures/signals'], /solo: QEMU pid \d+/, sig);
    assertLabGone(t, 'signals', r.all);
    t.deepEqual(unfinished(), []);
  });
}

// A boot template (lab/machine/template.ts) is made in a folder of its own, so these runs make one.
for (const sig of SIGNALS) {
  test.serial(`${sig} while a boot template is made, then the next command: nothing is left`, async (t) => {
    const templates = tempTree({});
    t.teardown(templates.remove);
    const env = { CORELAB_TEMPLATES: templates.dir };
    // Interrupted, the run itself removes the unfinished template; killed, the next command does.
    const own = () => sig !== 'SIGKILL' && t.deepEqual(readdirSync(templates.dir), [], 'the interrupted run removed its unfinished template');
    const { r } = await interrupt(t, ['run', '--cold', 'test/fixtures/signals'], /making the boot template [0-9a-f]+/, sig, env, own);
    assertLabGone(t, 'signals', r.all);
    t.deepEqual(processesMentioning(templates.dir), [], 'no template QEMU left');
    t.deepEqual(readdirSync(templates.dir), [], 'no unfinished template left');
  });
}

test.serial('a boot template is made once, in its own folder, and the next run starts from it', async (t) => {
  const templates = tempTree({});
  t.teardown(templates.remove);
  const env = { CORELAB_TEMPLATES: templates.dir };
  const first = await corelab(['run', '--cold', 'test/fixtures/one-node'], env);
  t.log(first.all.split('\n').filter((l) => /template|SSH is up|PASSED|FAILED/.test(l)).join('\n'));
  const key = first.all.match(/boot template ([0-9a-f]{16}) made in/)?.[1];
  t.truthy(key, 'the first run made the template');
  t.deepEqual(readdirSync(templates.dir), [key]);
  t.deepEqual(readdirSync(join(templates.dir, key!)).sort(), ['console.log', 'disk.qcow2', 'qemu.log', 'state.zst', 'template.json']);
  t.regex(first.all, new RegExp(`solo: QEMU pid \\d+.*started from boot template ${key}`));
  const second = await corelab(['run', '--cold', 'test/fixtures/one-node'], env);
  t.notRegex(second.all, /making the boot template/);
  t.regex(second.all, new RegExp(`started from boot template ${key}`));
  const off = await corelab(['run', '--cold', 'test/fixtures/one-node'], { ...env, CORELAB_BOOT_TEMPLATE: '0' });
  t.notRegex(off.all, /boot template/, 'CORELAB_BOOT_TEMPLATE=0 boots the node');
  // The fixture's last checks fail on purpose; everything before them (hostname and address from
  // the config drive, etcd up) passes on a node from the template as on a booted one.
  for (const r of [first, second, off]) t.regex(r.all, /^FAILED one-node-wrong in [\d.]+s: 3 passed, 1 failed, 1 skipped$/m, r.all.split('\n').slice(-20).join('\n'));
});

// The first run (cold) is interrupted in its long step: by then the checkpoint after step 1 is
// saved, which the later runs restore (quicker) and the restore cases below start from.
for (const sig of SIGNALS) {
  test.serial(`${sig} during a step, then the next command: nothing is left`, async (t) => {
    const { r } = await interrupt(t, ['run', 'test/fixtures/signals'], /==> step 2\/2: a long step/, sig);
    t.regex(r.all, sig === 'SIGINT' ? /checkpoint "solo-up" saved/ : /restored from checkpoint "solo-up"|restore checkpoint "solo-up"/);
    assertLabGone(t, 'signals', r.all);
    t.deepEqual(unfinished(), []);
  });
}

for (const sig of SIGNALS) {
  test.serial(`${sig} while a checkpoint is saved, then the next command: nothing is left, no half checkpoint`, async (t) => {
    const { r } = await interrupt(t, ['run', '--cold', 'test/fixtures/signals'], /==> save checkpoint "solo-up"/, sig);
    assertLabGone(t, 'signals', r.all);
    t.deepEqual(unfinished(), [], 'an interrupted save leaves no .tmp- folder in the store');
  });
}

for (const sig of SIGNALS) {
  test.serial(`${sig} while a checkpoint is restored, then the next command: nothing is left`, async (t) => {
    const { r } = await interrupt(t, ['run', 'test/fixtures/signals'], /==> restore checkpoint "solo-up"/, sig);
    assertLabGone(t, 'signals', r.all);
  });
}

for (const sig of SIGNALS) {
  test.serial(`${sig} while the image builds, then the next command: no mmdebstrap, no half-built image`, async (t) => {
    const cache = tempTree({});
    t.teardown(cache.remove);
    const env = { CORELAB_CACHE: cache.dir };
    await interrupt(t, ['images', 'build', 'labos'], /mmdebstrap \((root|unshare) mode\)/, sig, env);
    t.deepEqual(processesMentioning('mmdebstrap').filter((p) => p.includes(cache.dir) || p.includes(LAB_ENV.TMPDIR)), [], 'no mmdebstrap of this build is left');
    const images = join(cache.dir, 'images');
    t.deepEqual(existsSync(images) ? readdirSync(images).filter((f) => /partial|\.running$/.test(f)) : [], [], 'no half-built image or build marker');
    t.deepEqual(readdirSync(LAB_ENV.TMPDIR).filter((f) => f.startsWith('labos-build.')), [], 'build.sh removed its work folder');
  });
}

test.serial('a second Ctrl-C during teardown stops at once and still leaves nothing', async (t) => {
  const child = corelab(['run', 'test/fixtures/signals']);
  await outputUntil(child, /==> step 2\/2: a long step/);
  child.kill('SIGINT');
  await outputUntil(child, /==> tear down/);
  child.kill('SIGINT');
  const r = await child;
  t.is(r.exitCode, 130);
  await corelab(['status']);
  assertLabGone(t, 'signals', r.all);
});

test.serial('trouble in a run: no checkpoint while paused, exit: nonzero holds, a step outliving its timeout fails', async (t) => {
  const r = await corelab(['run', 'test/fixtures/trouble']);
  t.log(r.all.split('\n').slice(-20).join('\n'));
  t.is(r.exitCode, 1);
  t.regex(r.all, /checkpoint "while-paused" not saved: a node is paused/);
  t.false(existsSync(LAB_ENV.CORELAB_CHECKPOINTS) && readdirSync(LAB_ENV.CORELAB_CHECKPOINTS).some((k) => existsSync(join(LAB_ENV.CORELAB_CHECKPOINTS, k, 'checkpoint.json')) && /"checkpoint": "while-paused"/.test(readFileSync(join(LAB_ENV.CORELAB_CHECKPOINTS, k, 'checkpoint.json'), 'utf8'))));
  t.regex(r.all, /^FAILED trouble in [\d.]+s: 3 passed, 1 failed, 1 skipped$/m, 'pause, resume and the nonzero write pass; the slow step fails; the last is skipped');
  t.regex(r.all, /failed: step 4 "a step longer than its timeout"/);
  assertLabGone(t, 'trouble', r.all);
});

test.serial('a unit that fails during a step fails that step with the journal excerpt (the journal watcher)', async (t) => {
  const r = await corelab(['run', 'test/fixtures/trouble/failed-unit.yaml']);
  t.log(r.all.split('\n').slice(-25).join('\n'));
  t.is(r.exitCode, 1);
  t.regex(r.all, /journal of solo shows a failed unit: .*systemd\[1\]: Failed to start corelab-doomed\.service/);
  t.regex(r.all, /solo journal:\n(.*\n)*.*\| .*corelab-doomed\.service: Main process exited/, 'the lines before it come along');
  t.regex(r.all, /^FAILED trouble-failed-unit in [\d.]+s: 0 passed, 1 failed, 1 skipped$/m);
  assertLabGone(t, 'trouble-failed-unit', r.all);
});

test.serial('a kernel panic during a step fails that step with the console excerpt', async (t) => {
  const r = await corelab(['run', 'test/fixtures/trouble/panic.yaml']);
  t.log(r.all.split('\n').slice(-25).join('\n'));
  t.is(r.exitCode, 1);
  t.regex(r.all, /console of solo shows a kernel panic: .*Kernel panic - not syncing/);
  t.regex(r.all, /solo console:\n(.*\n)*.*\| .*sysrq/i, 'the excerpt around the panic');
  assertLabGone(t, 'trouble-panic', r.all);
});
