import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_DIR, shownPath } from '../util/paths.js';
import type { Scenario, ScenarioNode } from '../scenario/model.js';
import { FORMAT, type Inputs } from './layout.js';
import { listCheckpoints, walk } from './store.js';

export interface CheckpointPoint {
  /** The name the scenario gives it (checkpoint: NAME on a step). */
  name: string;
  /** Index of the step after which it is taken. */
  afterStep: number;
  key: string;
  inputs: Inputs;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const labVersionCache = new Map<string, string>();
/**
 * The lab's version: package.json's, plus a hash of every .ts file under lab/, nested folders
 * included (any change may change guests). `root` is the project folder (a test points it elsewhere).
 */
export function labVersion(root = PROJECT_DIR): string {
  const cached = labVersionCache.get(root);
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const dir = join(root, 'lab');
  const h = createHash('sha256');
  for (const f of walk(dir).filter((f) => f.endsWith('.ts')).map((f) => relative(dir, f)).sort()) h.update(`${f}\0`).update(readFileSync(join(dir, f))).update('\0');
  const version = `${pkg.version}+${h.digest('hex').slice(0, 12)}`;
  labVersionCache.set(root, version);
  return version;
}

/** Migration streams are only good for the QEMU that wrote them (machine/accel.ts). */
export { qemuVersion } from '../machine/accel.js';

export interface KeyContext {
  imageKey: string;
  accel: string;
  qemu: string;
  lab: string;
  /** name → sha256 of each artifact handed to the guests. */
  artifacts: Record<string, string>;
}

/**
 * A scenario as keys see it: its nodes may carry the guest port of their SSH forward, which the plan
 * derives from their configs (lab/cluster/plan.ts PlannedNode); it counts with the other forwards.
 */
export type KeyedScenario = Omit<Scenario, 'nodes'> & { nodes: Array<ScenarioNode & { guestSshPort?: number }> };

/** What decides the lab's state after step `afterStep`, component by component. */
function checkpointInputs(plan: KeyedScenario, afterStep: number, ctx: KeyContext): Inputs {
  const inputs: Inputs = {
    format: String(FORMAT),
    lab: ctx.lab,
    qemu: ctx.qemu,
    accel: ctx.accel,
    image: `${plan.image} ${ctx.imageKey}`,
    network: plan.subnet,
    services: sha(JSON.stringify({ discovery: plan.discovery ?? null, registry: plan.registry ?? null, ...(plan.rancher ? { rancher: plan.rancher } : {}) })),
    artifacts: sha(JSON.stringify(Object.entries(ctx.artifacts).sort())),
    nodes: plan.nodes.map((n) => n.name).join(','),
  };
  for (const n of plan.nodes) {
    inputs[`config:${n.name}`] = sha(n.config);
    // The SSH forward's guest port with the published ports (absent in a plan made without one: not hashed).
    inputs[`machine:${n.name}`] = sha(JSON.stringify({ address: n.address, memoryMb: n.memoryMb, cpus: n.cpus, drive: n.drive, ports: n.ports, guestSshPort: n.guestSshPort }));
  }
  // Steps as they act, not as they are written: line numbers and notes do not change the state.
  inputs.steps = sha(JSON.stringify(plan.steps.slice(0, afterStep + 1).map(({ line: _l, note: _n, ...s }) => s)));
  return inputs;
}

function keyOf(inputs: Inputs): string {
  return sha(JSON.stringify(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b)))).slice(0, 24);
}

/** The checkpoints a scenario marks, in step order, with their keys for this lab. */
export function checkpointPoints(plan: KeyedScenario, ctx: KeyContext): CheckpointPoint[] {
  return plan.steps
    .filter((s) => s.checkpoint)
    .map((s) => {
      const inputs = checkpointInputs(plan, s.index, ctx);
      return { name: s.checkpoint!, afterStep: s.index, key: keyOf(inputs), inputs };
    });
}

/** Why no saved checkpoint matches a point, in one line, from the closest one saved for the same scenario. */
export function whyNoMatch(point: CheckpointPoint, plan: KeyedScenario): string {
  const same = listCheckpoints()
    .filter((m) => m.scenario === plan.name && m.checkpoint === point.name)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (!same) return `no checkpoint "${point.name}" saved yet for this scenario`;
  const changed = Object.keys({ ...same.inputs, ...point.inputs }).filter((k) => same.inputs[k] !== point.inputs[k]);
  return `checkpoint "${point.name}" saved ${same.createdAt} is stale: ${changed.map((k) => describe(k, plan)).join(', ')} changed since`;
}

function describe(component: string, plan: KeyedScenario): string {
  const [kind, node] = component.split(':');
  const n = plan.nodes.find((x) => x.name === node);
  switch (kind) {
    case 'config':
      return `${node}'s config (${n ? shownPath(n.configFile) : '?'})`;
    case 'machine':
      return `${node}'s address, memory, cpus, drive, ports or guest SSH port`;
    case 'steps':
      return 'the steps up to it';
    case 'lab':
      return 'the lab version';
    case 'image':
      return `the image (${plan.image})`;
    case 'qemu':
      return 'the QEMU version';
    case 'accel':
      return 'the accelerator';
    case 'nodes':
      return 'the set of nodes';
    default:
      return `the ${component}`;
  }
}

