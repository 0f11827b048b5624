// The checkpoint key, input by input: every component the README's Checkpoints section names makes
// the key differ when it alone changes, and whyNoMatch names exactly that component; what must not
// count (line numbers, notes, later steps, the order artifacts are listed in) leaves the key alone.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { shownPath } from '../lab/util/paths.js';
import { loadScenario } from '../lab/scenario/loader.js';
import { commitCheckpoint, newCheckpointDir } from '../lab/checkpoints/store.js';
import { checkpointPoints, labVersion, whyNoMatch, type CheckpointPoint, type KeyContext, type KeyedScenario as Plan } from '../lab/checkpoints/key.js';
import { scenario, tempTree } from './helpers/files.js';

const BODY = `name: cpkey
network: { subnet: 192.168.0.0/24 }
discovery: { size: 2 }
nodes:
  a: { address: 192.168.0.10, config: cloud-config.yaml, memory: 1024, cpus: 2, drive: cidata, ports: [80] }
  b: { address: 192.168.0.11, config: b.yaml }
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
const CTX: KeyContext = { imageKey: 'img1', accel: 'tcg', qemu: 'QEMU emulator version 7.2.0', lab: '0.1.0+abc', artifacts: { etcd: 'e1', fleet: 'f1' } };
const SAVED = '2026-11-26T01:00:00.000Z';

// One store and one base plan for the file: the tests below only read the store after setup.
const storeDir = mkdtempSync(join(tmpdir(), 'corelab-cpkey-'));
process.env.CORELAB_CHECKPOINTS = storeDir;
const tree = tempTree({ ...scenario(BODY), 'b.yaml': '#cloud-config\nhostname: b\n' });
const base: Plan = loadScenario(tree.dir);
test.after.always(() => {
  rmSync(storeDir, { recursive: true, force: true });
  tree.remove();
});

const point = (plan: Plan, ctx = CTX): CheckpointPoint => checkpointPoints(plan, ctx)[0];

async function save(p: CheckpointPoint, plan: Plan, createdAt: string, key = p.key): Promise<void> {
  const tmp = newCheckpointDir(key);
  mkdirSync(join(tmp, 'nodes'), { recursive: true });
  writeFileSync(join(tmp, 'nodes', 'x'), 'x');
  await commitCheckpoint(tmp, {
    key, scenario: plan.name, file: plan.file, checkpoint: p.name, afterStep: p.afterStep, afterStepName: 'formed',
    createdAt, lastUsedAt: createdAt, inputs: p.inputs, accel: 'tcg', labByte: 1, vars: {},
    nodes: [], services: { discovery: true, registry: false }, artifactsDrive: false,
  });
}
test.before(async () => {
  // Older saves of the same point under other inputs, and saves of another checkpoint name and of
  // another scenario: the newest save of this scenario's "formed" is the one compared. The store is
  // listed in key order (readdir), so one older key sorts first and one last.
  const older = point({ ...base, subnet: '10.9.9.0/24' });
  await save(older, base, '2026-01-01T00:00:00.000Z', '000000000000000000older0');
  await save(older, base, '2026-01-02T00:00:00.000Z', 'older0000000000000000000');
  await save({ ...point(base), name: 'other' }, base, '2026-12-01T00:00:00.000Z', 'othername000000000000000');
  await save({ ...point(base) }, { ...base, name: 'another-scenario' }, '2026-12-01T00:00:00.000Z', 'otherscen000000000000000');
  await save(point(base), base, SAVED);
});

const nodeA = (change: Partial<Plan['nodes'][number]>): Plan => ({ ...base, nodes: base.nodes.map((n) => (n.name === 'a' ? { ...n, ...change } : n)) });
const stale = (what: string) => `checkpoint "formed" saved ${SAVED} is stale: ${what} changed since`;
const aConfig = `a's config (${shownPath(base.nodes[0].configFile)})`;

/** Each input changed alone: [what, plan, ctx, what whyNoMatch names]. */
const CHANGES: Array<[string, Plan, KeyContext, string]> = [
  ['the accelerator', base, { ...CTX, accel: 'kvm' }, 'the accelerator'],
  ['the lab version hash', base, { ...CTX, lab: '0.1.0+def' }, 'the lab version'],
  ['the QEMU version', base, { ...CTX, qemu: 'QEMU emulator version 8.2.2' }, 'the QEMU version'],
  ['the image key', base, { ...CTX, imageKey: 'img2' }, `the image (${base.image})`],
  ['the image name', { ...base, image: 'flatcar-stable' }, CTX, 'the image (flatcar-stable)'],
  ['an artifact digest', base, { ...CTX, artifacts: { etcd: 'e1', fleet: 'f2' } }, 'the artifacts'],
  ['an artifact added', base, { ...CTX, artifacts: { etcd: 'e1', fleet: 'f1', extra: 'x' } }, 'the artifacts'],
  ['the network', { ...base, subnet: '192.168.5.0/24' }, CTX, 'the network'],
  ['the discovery service', { ...base, discovery: { size: 3 } }, CTX, 'the services'],
  ['no discovery service', { ...base, discovery: undefined }, CTX, 'the services'],
  ['the registry', { ...base, registry: { images: ['nginx'] } }, CTX, 'the services'],
  ["a node's address", nodeA({ address: '192.168.0.12' }), CTX, "a's address, memory, cpus, drive, ports or guest SSH port"],
  ["a node's memory", nodeA({ memoryMb: 2048 }), CTX, "a's address, memory, cpus, drive, ports or guest SSH port"],
  ["a node's cpus", nodeA({ cpus: 1 }), CTX, "a's address, memory, cpus, drive, ports or guest SSH port"],
  ["a node's drive", nodeA({ drive: 'config-2' }), CTX, "a's address, memory, cpus, drive, ports or guest SSH port"],
  ["a node's ports", nodeA({ ports: [80, 8080] }), CTX, "a's address, memory, cpus, drive, ports or guest SSH port"],
  ["a node's guest SSH port", nodeA({ guestSshPort: 2345 }), CTX, "a's address, memory, cpus, drive, ports or guest SSH port"],
  ["a node's config", nodeA({ config: '#cloud-config\nhostname: changed\n' }), CTX, aConfig],
  ['a step before it', { ...base, steps: base.steps.map((s) => (s.index === 0 && s.kind === 'run' ? { ...s, command: 'echo uno' } : s)) }, CTX, 'the steps up to it'],
  ['the checkpoint step itself', { ...base, steps: base.steps.map((s) => (s.index === 1 && s.kind === 'run' ? { ...s, command: 'echo dos' } : s)) }, CTX, 'the steps up to it'],
];

for (const [what, plan, ctx, named] of CHANGES) {
  test(`${what} alone changes the key, and the run says so`, (t) => {
    const p = point(plan, ctx);
    t.not(p.key, point(base).key);
    t.regex(p.key, /^[0-9a-f]{24}$/);
    t.is(whyNoMatch(p, plan), stale(named));
  });
}

test('the guest SSH port counts as the published ports do: 22 and 2345 differ, 22 twice is one key', (t) => {
  t.not(point(nodeA({ guestSshPort: 22 })).key, point(nodeA({ guestSshPort: 2345 })).key);
  t.is(point(nodeA({ guestSshPort: 2345 })).key, point(nodeA({ guestSshPort: 2345 })).key);
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  t.is(point(nodeA({ guestSshPort: 2345 })).inputs['machine:a'], sha(JSON.stringify({ address: '192.168.0.10', memoryMb: 1024, cpus: 2, drive: 'cidata', ports: [80], guestSshPort: 2345 })));
});

test('the nodes: renaming one changes the set and its config and machine entries', (t) => {
  const plan: Plan = { ...base, nodes: base.nodes.map((n) => (n.name === 'b' ? { ...n, name: 'c' } : n)) };
  const p = point(plan);
  t.not(p.key, point(base).key);
  t.is(p.inputs.nodes, 'a,c');
  const cConfig = shownPath(base.nodes[1].configFile);
  const machine = "address, memory, cpus, drive, ports or guest SSH port";
  t.is(whyNoMatch(p, plan), stale(`the set of nodes, b's config (?), b's ${machine}, c's config (${cConfig}), c's ${machine}`));
});

test('the format, and an input the describer does not know, are named by their own name', (t) => {
  const p = point(base);
  t.is(p.inputs.format, '1');
  t.is(whyNoMatch({ ...p, key: 'x', inputs: { ...p.inputs, format: '2' } }, base), stale('the format'));
  t.is(whyNoMatch({ ...p, key: 'x', inputs: { ...p.inputs, newthing: 'v' } }, base), stale('the newthing'));
});

test('what acts on the lab counts; how it is written, later steps and the artifacts order do not', (t) => {
  const key = point(base).key;
  const steps = (f: (s: Plan['steps'][number]) => Plan['steps'][number]) => point({ ...base, steps: base.steps.map(f) }).key;
  t.is(steps((s) => ({ ...s, line: s.line + 7 })), key, 'line numbers');
  t.is(steps((s) => ({ ...s, note: 'a note' })), key, 'notes');
  t.is(steps((s) => (s.index === 2 && s.kind === 'run' ? { ...s, command: 'echo four' } : s)), key, 'a step after the checkpoint');
  t.is(point(base, { ...CTX, artifacts: { fleet: 'f1', etcd: 'e1' } }).key, key, 'the order the artifacts are listed in');
  t.is(point({ ...base, description: 'other words' }).key, key, 'the description');
});

test('the inputs are the named components, each as recorded', (t) => {
  const p = point(base);
  t.is(p.name, 'formed');
  t.is(p.afterStep, 1);
  t.deepEqual(Object.keys(p.inputs).sort(), ['accel', 'artifacts', 'config:a', 'config:b', 'format', 'image', 'lab', 'machine:a', 'machine:b', 'network', 'nodes', 'qemu', 'services', 'steps']);
  t.like(p.inputs, { lab: CTX.lab, qemu: CTX.qemu, accel: 'tcg', image: `${base.image} img1`, network: '192.168.0.0/24', nodes: 'a,b' });
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  t.is(p.inputs['config:a'], sha(base.nodes[0].config));
  t.is(p.inputs['machine:a'], sha(JSON.stringify({ address: '192.168.0.10', memoryMb: 1024, cpus: 2, drive: 'cidata', ports: [80] })));
  t.is(p.inputs.services, sha(JSON.stringify({ discovery: { size: 2 }, registry: null })));
  t.is(p.inputs.artifacts, sha(JSON.stringify([['etcd', 'e1'], ['fleet', 'f1']])));
  t.is(p.key, sha(JSON.stringify(Object.entries(p.inputs).sort(([a], [b]) => a.localeCompare(b)))).slice(0, 24));
});

test('a plan marking two checkpoints gets a point for each, in step order, the later one covering more steps', (t) => {
  const plan: Plan = { ...base, steps: base.steps.map((s) => (s.index === 0 ? { ...s, checkpoint: 'early' } : s)) };
  const points = checkpointPoints(plan, CTX);
  t.deepEqual(points.map((p) => [p.name, p.afterStep]), [['early', 0], ['formed', 1]]);
  t.not(points[0].inputs.steps, points[1].inputs.steps);
  t.deepEqual(checkpointPoints({ ...base, steps: base.steps.map(({ checkpoint: _c, ...s }) => s as Plan['steps'][number]) }, CTX), []);
});

test('no save of this scenario and checkpoint: said so', (t) => {
  t.is(whyNoMatch({ ...point(base), name: 'never' }, base), 'no checkpoint "never" saved yet for this scenario');
  t.is(whyNoMatch(point(base), { ...base, name: 'unsaved-scenario' }), 'no checkpoint "formed" saved yet for this scenario');
});

test('the lab version is package.json\'s plus a hash of every .ts file under lab/, by path', (t) => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  const h = createHash('sha256');
  for (const f of walk('lab').filter((f) => f.endsWith('.ts')).map((f) => relative('lab', f)).sort()) h.update(`${f}\0`).update(readFileSync(join('lab', f))).update('\0');
  t.is(labVersion(), `${pkg.version}+${h.digest('hex').slice(0, 12)}`);
  t.is(labVersion(), labVersion());
  t.true(walk('lab').some((f) => f.includes('/checkpoints/')), 'files in sub-folders are covered');
});
