// The CLI as a user meets it, on paths that boot nothing.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corelab, leftoverDirs } from './helpers/lab.js';
import { scenario, tempTree } from './helpers/files.js';

const GOOD = `name: cli-t
nodes:
  a: { address: 192.168.0.10, config: cloud-config.yaml }
steps:
  - name: hello
    on: a
    run: echo hi
`;

test('lint accepts the shipped scenarios', async (t) => {
  const r = await corelab(['lint', 'scenarios/etcd-discovery', 'scenarios/swarm-drain-replicate']);
  t.is(r.exitCode, 0);
  t.regex(r.stdout, /scenarios\/etcd-discovery: ok \(3 nodes, 10 steps\)/);
});

test('lint names an unknown top-level key, its line, and what was meant', async (t) => {
  const tree = tempTree(scenario(GOOD.replace('steps:', 'stpes: []\nsteps:')));
  t.teardown(tree.remove);
  const r = await corelab(['lint', tree.dir]);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /scenario\.yaml:4:1: unknown key "stpes" in the scenario\n  fix: did you mean "steps"\?/);
});

test('lint reports broken YAML with its line', async (t) => {
  const tree = tempTree(scenario('name: x\nnodes: [a\n'));
  t.teardown(tree.remove);
  const r = await corelab(['lint', tree.dir]);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /scenario\.yaml:\d+:\d+: YAML: .*\n  fix: correct the YAML syntax/);
});

test('--repeat shows each run, --shard picks scenarios, and a missing tool fails every run cleanly', async (t) => {
  const tree = tempTree(scenario(GOOD));
  t.teardown(tree.remove);
  const r = await corelab(['run', '--repeat', '3', '--shard', '1/1', tree.dir], { PATH: '/nonexistent' });
  t.is(r.exitCode, 1);
  t.regex(r.all, /shard 1\/1: cli-t/);
  for (const k of [1, 2, 3]) t.regex(r.stdout, new RegExp(`ERROR cli-t \\(run ${k}/3\\) in`));
  t.regex(r.stdout, /0 flaky scenario\(s\) over 3 runs each/);
  t.regex(r.stdout, /needs host tools that are not installed: qemu-system-x86_64/);
  t.deepEqual(leftoverDirs('cli-t'), []);
});

test('a bad --shard or --repeat is a usage error', async (t) => {
  t.is((await corelab(['run', '--shard', '3/2', 'scenarios/etcd-discovery'])).exitCode, 2);
  t.is((await corelab(['run', '--repeat', '0', 'scenarios/etcd-discovery'])).exitCode, 2);
});

test('without the fleet artifact the fleet scenario is skipped, with the reason, in the terminal and in junit', async (t) => {
  const out = tempTree({});
  const empty = tempTree({});
  t.teardown(() => { out.remove(); empty.remove(); });
  const r = await corelab(['run', 'scenarios/fleet-nginx-failover', '--report', out.dir], { CORELAB_CACHE: empty.dir, CORELAB_ARTIFACTS: '' });
  t.is(r.exitCode, 0);
  t.regex(r.stdout, /SKIPPED fleet-nginx-failover .*0 passed, 0 failed, 12 skipped/);
  t.regex(r.stdout, /skipped: it needs fleet v1\.0\.0, which is not here; to run it, put fleetd and fleetctl .* --artifacts DIR/);
  const junit = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is((junit.match(/<skipped message="skipped: it needs fleet v1\.0\.0/g) ?? []).length, 12);
  t.false(/<failure|<error/.test(junit));
});

test('lint accepts the Flatcar and RancherOS variants, named by file', async (t) => {
  const r = await corelab(['lint', 'scenarios/etcd-discovery/flatcar.yaml', 'scenarios/swarm-drain-replicate/rancheros.yaml']);
  t.is(r.exitCode, 0, r.all);
  t.regex(r.stdout, /scenarios\/etcd-discovery\/flatcar\.yaml: ok \(3 nodes, 10 steps\)/);
  t.regex(r.stdout, /scenarios\/swarm-drain-replicate\/rancheros\.yaml: ok \(3 nodes, 25 steps\)/);
});

test('a variant whose image is not cached is skipped with the pull and import commands, in the terminal and in junit', async (t) => {
  const out = tempTree({});
  const empty = tempTree({});
  t.teardown(() => { out.remove(); empty.remove(); });
  const r = await corelab(['run', 'scenarios/etcd-discovery/flatcar.yaml', 'scenarios/swarm-drain-replicate/rancheros.yaml', '--report', out.dir], { CORELAB_CACHE: empty.dir, CORELAB_ARTIFACTS: '' });
  t.is(r.exitCode, 0, 'a skip is not a failure: CI without the images stays green');
  t.regex(r.stdout, /SKIPPED etcd-discovery-flatcar .*0 passed, 0 failed, 10 skipped/);
  t.regex(r.stdout, /skipped: it boots flatcar-stable, which is not in the image cache \(missing: flatcar_production_qemu_image\.img\); to run it: corelab images pull flatcar-stable .*corelab images import flatcar-stable \/path\/to\/flatcar_production_qemu_image\.img/);
  t.regex(r.stdout, /SKIPPED swarm-drain-replicate-rancheros .*25 skipped/);
  const junit = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is((junit.match(/<skipped message="skipped: it boots flatcar-stable/g) ?? []).length, 10);
  t.is((junit.match(/<skipped message="skipped: it boots rancheros-1\.5\.8/g) ?? []).length, 25);
  t.false(/<failure|<error/.test(junit));
  t.deepEqual(leftoverDirs('etcd-discovery-flatcar'), [], 'no lab was set up');
});

test('with the Flatcar image cached but no etcd artifact, the variant is skipped saying how to supply etcd', async (t) => {
  const cache = tempTree({ 'flatcar_production_qemu_image.img': 'a stand-in qcow2' });
  t.teardown(cache.remove);
  const env = { CORELAB_CACHE: cache.dir, CORELAB_ARTIFACTS: '' };
  t.is((await corelab(['images', 'import', 'flatcar-stable', join(cache.dir, 'flatcar_production_qemu_image.img'), '--offline', '--allow-unverified'], env)).exitCode, 0);
  const r = await corelab(['run', 'scenarios/etcd-discovery/flatcar.yaml', '--allow-unverified'], env);
  t.is(r.exitCode, 0);
  t.regex(r.stdout, /skipped: it needs etcd v3\.4\.33, which is not here; to run it, .*corelab artifacts pull etcd.*corelab artifacts import etcd \/usr\/bin\/etcd/);
});

test('checkpoints list, rm and prune work on the store named by CORELAB_CHECKPOINTS', async (t) => {
  const store = tempTree({});
  t.teardown(store.remove);
  const env = { CORELAB_CHECKPOINTS: store.dir };
  // Three small checkpoints, as the lab writes them (checkpoint.json with sizes, digests, dates).
  const { commitCheckpoint, newCheckpointDir } = await import('../lab/checkpoints/store.js');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const before = process.env.CORELAB_CHECKPOINTS;
  process.env.CORELAB_CHECKPOINTS = store.dir;
  try {
    for (const [key, used] of [['aaaa1111', '2026-01-01T00:00:00.000Z'], ['aaaa2222', '2026-02-01T00:00:00.000Z'], ['bbbb3333', '2026-03-01T00:00:00.000Z']]) {
      const tmp = newCheckpointDir(key);
      mkdirSync(join(tmp, 'nodes', 'a'), { recursive: true });
      writeFileSync(join(tmp, 'nodes', 'a', 'state.zst'), 'x'.repeat(2_000_000));
      await commitCheckpoint(tmp, {
        key, scenario: 'etcd-discovery', file: 'x', checkpoint: 'cluster-healthy', afterStep: 1, afterStepName: 's', createdAt: used, lastUsedAt: used,
        inputs: {}, accel: 'tcg', labByte: 1, vars: {}, nodes: [{ name: 'a', state: 'running', hasDisk: false }], services: { discovery: true, registry: false }, artifactsDrive: false,
      });
    }
  } finally {
    if (before === undefined) delete process.env.CORELAB_CHECKPOINTS;
    else process.env.CORELAB_CHECKPOINTS = before;
  }
  const list = await corelab(['checkpoints', 'list'], env);
  t.is(list.exitCode, 0);
  t.regex(list.stdout, /^bbbb3333 {2}etcd-discovery\/cluster-healthy {2}after step 2 {2}2\.0 MB {2}saved 2026-03-01T00:00:00\.000Z/m);
  t.regex(list.stdout, /3 checkpoint\(s\), 6\.0 MB of a [\d.]+ MB cap/);
  const ambiguous = await corelab(['checkpoints', 'rm', 'aaaa'], env);
  t.is(ambiguous.exitCode, 2);
  t.regex(ambiguous.stderr, /"aaaa" matches 2 checkpoints/);
  const rm = await corelab(['checkpoints', 'rm', 'bbbb'], env);
  t.regex(rm.stdout, /removed bbbb3333 \(etcd-discovery\/cluster-healthy\)/);
  const prune = await corelab(['checkpoints', 'prune', '--max-size', '3M'], env);
  t.regex(prune.stdout, /removed aaaa1111 .*last used 2026-01-01/);
  t.regex(prune.stdout, /1 removed; 2\.0 MB left of a 3\.1 MB cap/);
  t.regex((await corelab(['checkpoints', 'list'], env)).stdout, /^aaaa2222 /m);
});
