import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadScenario, FileProblems } from '../lab/scenario/loader.js';
import { commitCheckpoint, damage, listCheckpoints, newCheckpointDir, parseSize, pruneCheckpoints, readMeta, type CheckpointMeta } from '../lab/checkpoints/store.js';
import { checkpointPoints, whyNoMatch, type KeyContext } from '../lab/checkpoints/key.js';
import { scenario, tempTree } from './helpers/files.js';

const BODY = `name: cp
nodes:
  a: { address: 192.168.0.10, config: cloud-config.yaml }
  b: { address: 192.168.0.11, config: cloud-config.yaml }
steps:
  - name: first
    on: a
    run: echo one
  - name: formed
    checkpoint: formed
    on: a
    run: echo two
  - name: after
    on: b
    run: echo three
`;

const CTX: KeyContext = { imageKey: 'img1', accel: 'tcg', qemu: 'QEMU emulator version 7.2.0', lab: '0.1.0+abc', artifacts: {} };

/** A private checkpoint store for one test (the tests using it are serial: the store is in the environment). */
function store(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-cp-'));
  const before = process.env.CORELAB_CHECKPOINTS;
  process.env.CORELAB_CHECKPOINTS = dir;
  t.teardown(() => {
    if (before === undefined) delete process.env.CORELAB_CHECKPOINTS;
    else process.env.CORELAB_CHECKPOINTS = before;
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function plan(t: import('ava').ExecutionContext, body = BODY, config?: string) {
  const files = scenario(body);
  if (config) files['cloud-config.yaml'] = config;
  const tree = tempTree(files);
  t.teardown(tree.remove);
  return { plan: loadScenario(tree.dir), dir: tree.dir };
}

/** Saves a fake checkpoint (one small file per node) for the point of a plan. */
async function save(p: ReturnType<typeof checkpointPoints>[number], scenarioName: string, when: string, bytes = 10): Promise<CheckpointMeta> {
  const tmp = newCheckpointDir(p.key);
  mkdirSync(join(tmp, 'nodes', 'a'), { recursive: true });
  writeFileSync(join(tmp, 'nodes', 'a', 'state.zst'), 'x'.repeat(bytes));
  return commitCheckpoint(tmp, {
    key: p.key, scenario: scenarioName, file: 'x', checkpoint: p.name, afterStep: p.afterStep, afterStepName: 'formed',
    createdAt: when, lastUsedAt: when, inputs: p.inputs, accel: 'tcg', labByte: 7, vars: {},
    nodes: [{ name: 'a', state: 'running', hasDisk: false }], services: { discovery: false, registry: false }, artifactsDrive: false,
  });
}

test('a step marks a checkpoint; the plan keeps its name', (t) => {
  const { plan: p } = plan(t);
  t.is(p.steps[1].checkpoint, 'formed');
  const points = checkpointPoints(p, CTX);
  t.is(points.length, 1);
  t.is(points[0].afterStep, 1);
  t.regex(points[0].key, /^[0-9a-f]{24}$/);
});

test('bad checkpoint marks are named with their line', (t) => {
  const bad = (body: string) => {
    const tree = tempTree(scenario(body));
    t.teardown(tree.remove);
    return (t.throws(() => loadScenario(tree.dir), { instanceOf: FileProblems }) as FileProblems).format();
  };
  t.regex(bad(BODY.replace('checkpoint: formed', 'checkpoint: Formed Cluster')), /scenario\.yaml:10:\d+: checkpoint name "Formed Cluster" is not a simple name/);
  t.regex(bad(BODY.replace('    run: echo three', '    run: echo three\n    checkpoint: last')), /checkpoint "last" is on the last step/);
  t.regex(bad(BODY.replace('    run: echo one', '    run: echo one\n    checkpoint: formed')), /checkpoint "formed" is named twice/);
});

test('the key changes with what decides the state, not with comments, notes or later steps', (t) => {
  const key = (body: string, config?: string, ctx = CTX) => checkpointPoints(plan(t, body, config).plan, ctx)[0].key;
  const base = key(BODY);
  t.is(key(`# a comment\n${BODY}`), base, 'line numbers do not count');
  t.is(key(BODY.replace('    run: echo one', '    note: just a note\n    run: echo one')), base, 'notes do not count');
  t.is(key(BODY.replace('echo three', 'echo four')), base, 'steps after the checkpoint do not count');
  t.not(key(BODY.replace('echo one', 'echo uno')), base, 'a step before it does');
  t.not(key(BODY, '#cloud-config\nhostname: other\n'), base, 'a node config does');
  t.not(key(BODY.replace('config: cloud-config.yaml }\n  b', 'config: cloud-config.yaml, memory: 2048 }\n  b')), base, 'memory does');
  t.not(key(BODY, undefined, { ...CTX, imageKey: 'img2' }), base, 'the image does');
  t.not(key(BODY, undefined, { ...CTX, qemu: 'QEMU emulator version 8.0.0' }), base, 'QEMU does');
  t.not(key(BODY, undefined, { ...CTX, artifacts: { fleet: 'abc' } }), base, 'artifacts do');
});

test.serial('a stale checkpoint is explained in one line naming what changed', async (t) => {
  store(t);
  const first = plan(t);
  const p = checkpointPoints(first.plan, CTX)[0];
  await save(p, first.plan.name, '2026-11-26T01:00:00.000Z');
  t.truthy(readMeta(p.key));
  const changed = plan(t, BODY, '#cloud-config\nhostname: changed\n');
  const q = checkpointPoints(changed.plan, CTX)[0];
  t.not(q.key, p.key);
  t.is(readMeta(q.key), undefined);
  const why = whyNoMatch(q, changed.plan);
  t.regex(why, /^checkpoint "formed" saved 2026-11-26T01:00:00\.000Z is stale: a's config \(.*cloud-config\.yaml\), b's config \(.*\) changed since$/);
  t.notRegex(why, /\n/);
  const other = plan(t, BODY.replace('name: cp', 'name: other'));
  t.is(whyNoMatch(checkpointPoints(other.plan, CTX)[0], other.plan), 'no checkpoint "formed" saved yet for this scenario');
});

test.serial('a damaged checkpoint is found: a changed byte, a missing file, a disk whose image is gone', async (t) => {
  const dir = store(t);
  const { plan: p } = plan(t);
  const point = checkpointPoints(p, CTX)[0];
  const meta = await save(point, p.name, new Date().toISOString(), 1000);
  t.is(await damage(meta), undefined);
  const state = join(dir, point.key, 'nodes', 'a', 'state.zst');
  writeFileSync(state, 'y' + 'x'.repeat(999));
  t.is(await damage(meta), 'nodes/a/state.zst does not match the digest saved with it');
  appendFileSync(state, 'more');
  t.is(await damage(meta), 'nodes/a/state.zst has 1004 bytes, 1000 were saved');
  rmSync(state);
  t.is(await damage(meta), 'nodes/a/state.zst is missing');

  // A saved disk made on an image that has since been removed.
  const tmp = newCheckpointDir('disk');
  const base = join(dir, 'base.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
  mkdirSync(join(tmp, 'nodes', 'a'), { recursive: true });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, join(tmp, 'nodes', 'a', 'disk.qcow2')]);
  const withDisk = await commitCheckpoint(tmp, { ...meta, key: 'disk', nodes: [{ name: 'a', state: 'off', hasDisk: true }] });
  t.is(await damage(withDisk), undefined);
  rmSync(base);
  t.regex((await damage(withDisk)) ?? '', /^the image a's saved disk is made on \(.*base\.qcow2\) is gone$/);
});

test.serial('prune removes the least recently used first and keeps what it is told to', async (t) => {
  store(t);
  const { plan: p } = plan(t);
  const pt = checkpointPoints(p, CTX)[0];
  const mk = (key: string, used: string) => save({ ...pt, key }, p.name, used, 1000);
  await mk('old', '2026-01-01T00:00:00.000Z');
  await mk('mid', '2026-06-01T00:00:00.000Z');
  await mk('new', '2026-11-01T00:00:00.000Z');
  t.deepEqual(pruneCheckpoints(2500, ['old']).map((m) => m.key), ['mid']);
  t.deepEqual(listCheckpoints().map((m) => m.key).sort(), ['new', 'old']);
  t.deepEqual(pruneCheckpoints(0).map((m) => m.key), ['old', 'new']);
  t.deepEqual(listCheckpoints(), []);
});

test.serial('an unfinished checkpoint of a run that is gone is cleaned up, one of a live run is left alone', (t) => {
  const dir = store(t);
  mkdirSync(join(dir, '.tmp-999999999-abc'));
  mkdirSync(join(dir, `.tmp-${process.pid}-def`));
  t.deepEqual(listCheckpoints(), []);
  t.false(existsSync(join(dir, '.tmp-999999999-abc')));
  t.deepEqual(readdirSync(dir), [`.tmp-${process.pid}-def`]);
});

test('sizes read like 20G, 500M, 1.5T', (t) => {
  t.is(parseSize('20G'), 20 * 1024 ** 3);
  t.is(parseSize('500M'), 500 * 1024 ** 2);
  t.is(parseSize('1.5T'), 1.5 * 1024 ** 4);
  t.is(parseSize('4096'), 4096);
  t.throws(() => parseSize('lots'), { message: /cannot read size "lots"/ });
});

test('the lab version covers every file under lab/, nested folders included', async (t) => {
  const { labVersion } = await import('../lab/checkpoints/key.js');
  const make = (nested: string) => tempTree({ 'package.json': '{"version": "9.9.9"}', 'lab/util/a.ts': 'export const a = 1;\n', 'lab/cluster/deep/b.ts': nested, 'lab/notes.md': 'not code' });
  const one = make('export const b = 1;\n');
  const two = make('export const b = 2;\n');
  const three = make('export const b = 1;\n');
  t.teardown(() => [one, two, three].forEach((x) => x.remove()));
  t.regex(labVersion(one.dir), /^9\.9\.9\+[0-9a-f]{12}$/);
  t.not(labVersion(one.dir), labVersion(two.dir), 'a change in lab/cluster/deep/b.ts makes every checkpoint stale');
  t.is(labVersion(one.dir), labVersion(three.dir), 'the same code, the same version');
  t.regex(labVersion(), /^\d+\.\d+\.\d+\+[0-9a-f]{12}$/);
});
