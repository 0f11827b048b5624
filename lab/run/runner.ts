import { relative } from 'node:path';
import type { Plan } from '../scenario/loader.js';
import { Lab, type LabOptions } from '../cluster/lab.js';
import { runStep, tail, type StepResult } from './steps.js';
import { formatError } from '../util/errors.js';
import { log, section, seconds, warn } from '../util/log.js';
import { which } from '../host/tools.js';
import { indent } from '../util/poll.js';
import { render } from '../util/template.js';
import type { Accel } from '../machine/machine.js';
import { checkpointPoints, damage, labVersion, qemuVersion, readMeta, removeCheckpoint, touchCheckpoint, whyNoMatch, type CheckpointMeta, type CheckpointPoint } from '../checkpoints/store.js';
import { ARTIFACTS, howToSupply, resolveArtifact, type ResolvedArtifact } from '../images/artifacts.js';
import { missingImage, requiredArtifacts } from './plan.js';

export interface NodeReport {
  name: string;
  address: string;
  bootStartedAt?: string;
  bootMs?: number;
  maxRssMb: number;
  console?: string;
}

export interface ScenarioResult {
  scenario: string;
  file: string;
  /** With --repeat: which run this was, of how many. */
  run?: number;
  runs?: number;
  /**
   * passed: every step passed; failed: a step failed; error: the lab could not be set up, or the run
   * was interrupted; skipped: something it requires (a downloaded image, an artifact) is not here, said in skipReason;
   * flaky (with --rerun-failed): an attempt failed, a later one passed.
   */
  status: 'passed' | 'failed' | 'error' | 'skipped' | 'flaky';
  /** With --rerun-failed: which attempt this result is (1 for the first), and every attempt made, this one last. */
  attempt?: number;
  attempts?: AttemptReport[];
  error?: string;
  skipReason?: string;
  startedAt: string;
  durationMs: number;
  accel?: Accel;
  phases: Record<string, number>;
  checkpoint?: CheckpointReport;
  nodes: NodeReport[];
  steps: StepResult[];
}

/** One attempt of a scenario run with --rerun-failed, as it ran. */
export type AttemptReport = Omit<ScenarioResult, 'attempts' | 'run' | 'runs'> & { attempt: number };

export interface RunOptions extends LabOptions {
  /** Which attempt this is (--rerun-failed), for {{run.attempt}}; 1 when not given. */
  attempt?: number;
  /** Where required artifacts are looked for first (--artifacts); else CORELAB_ARTIFACTS, then the cache. */
  artifactsDir?: string;
  /** After a failed step, leave the lab up (ssh, console, status work) until Ctrl-C or corelab down. */
  keepFailed?: boolean;
  /** Where consoles are copied before the lab is torn down. */
  reportDir?: string;
  /** Run every step even when a checkpoint matches (checkpoints are still saved). */
  cold?: boolean;
}

/** What a run did with the scenario's checkpoints. */
export interface CheckpointReport {
  /** The checkpoint the run started from, if it was restored. */
  restored?: string;
  key?: string;
  /** Why a run with checkpoints went cold (none saved yet, stale, damaged, failed to restore). */
  coldReason?: string;
  /** Checkpoints this run saved, and how long saving each took. */
  saved: Array<{ name: string; key: string; ms: number; bytes: number }>;
  /** When the first step after a checkpoint started, from the start of the run, less time spent saving. */
  reached?: { name: string; ms: number; mode: 'cold' | 'restored' };
}

/**
 * Sets the lab up: restored from the furthest checkpoint that matches, else cold (saying why in
 * one line). A restore that fails is torn down, its checkpoint removed, and the run goes cold on a
 * new lab (handed to `replaced` at once).
 */
async function setUpOrRestore(lab: Lab, artifacts: ResolvedArtifact[], checkpoint: CheckpointReport, opts: RunOptions, replaced: (fresh: Lab) => void): Promise<{ lab: Lab; points: CheckpointPoint[]; restored?: CheckpointMeta }> {
  const plan = lab.plan;
  await lab.prepare();
  let points: CheckpointPoint[] = [];
  if (plan.steps.some((s) => s.checkpoint) && !which('zstd')) {
    checkpoint.coldReason = 'checkpoints need zstd, which is not installed (sudo apt-get install -y zstd)';
    warn(`${checkpoint.coldReason}: running every step, saving nothing`);
  } else {
    const digests = Object.fromEntries(artifacts.map((a) => [a.spec.name, a.sha256]));
    points = checkpointPoints(plan, { imageKey: lab.imageKey, accel: lab.accel!, qemu: await qemuVersion(), lab: labVersion(), artifacts: digests });
  }
  if (opts.cold && points.length) log(`checkpoint: --cold, so every step runs; ${points.map((p) => `"${p.name}"`).join(', ')} will be saved again`);
  const pick = opts.cold ? undefined : await pickCheckpoint(plan, points);
  if (pick?.meta) {
    const meta = pick.meta;
    try {
      await section(`restore checkpoint "${meta.checkpoint}" (after step ${meta.afterStep + 1}, saved ${meta.createdAt})`, () => lab.restore(meta));
      touchCheckpoint(meta);
      Object.assign(checkpoint, { restored: meta.checkpoint, key: meta.key });
      return { lab, points, restored: meta };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      checkpoint.coldReason = `checkpoint "${meta.checkpoint}" could not be restored (${formatError(err).split('\n')[0]}); removed it; running cold`;
      log(checkpoint.coldReason);
      removeCheckpoint(meta.key);
      await lab.tearDown();
      lab = new Lab(plan, opts);
      replaced(lab); // so the caller tears this one down, whatever happens next
    }
  } else if (pick?.reason) {
    checkpoint.coldReason = pick.reason;
    log(`checkpoint: ${pick.reason}; running cold`);
  }
  await lab.setUp();
  return { lab, points };
}

/**
 * The furthest checkpoint with a saved, undamaged match; else why there is none (one line).
 * A damaged checkpoint is removed (this run will save it again).
 */
async function pickCheckpoint(plan: Plan, points: CheckpointPoint[]): Promise<{ meta?: CheckpointMeta; reason?: string } | undefined> {
  if (!points.length) return undefined;
  for (const p of [...points].reverse()) {
    const meta = readMeta(p.key);
    if (!meta) continue;
    const bad = await damage(meta);
    if (!bad) return { meta };
    removeCheckpoint(meta.key);
    return { reason: `checkpoint "${p.name}" (${p.key}) is damaged: ${bad}; removed it` };
  }
  return { reason: whyNoMatch(points[points.length - 1], plan) };
}

/** Plan → lab resources → steps → result. The lab is torn down whatever happens. */
export async function runScenario(plan: Plan, opts: RunOptions = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const noImage = missingImage(plan);
  if (noImage) return skipped(plan, t0, noImage);
  const artifacts: ResolvedArtifact[] = [];
  for (const name of requiredArtifacts(plan)) {
    const a = await resolveArtifact(name, opts.artifactsDir ?? process.env.CORELAB_ARTIFACTS);
    if (!a) {
      const spec = ARTIFACTS[name];
      return skipped(plan, t0, `it needs ${spec.name} ${spec.version}, which is not here; to run it, ${howToSupply(spec)}`);
    }
    artifacts.push(a);
  }
  opts = { ...opts, artifacts };
  // Interrupted by the user, or out of time for the whole scenario: either stops the steps.
  const timeout = plan.scenarioTimeoutMs ? AbortSignal.timeout(plan.scenarioTimeoutMs) : undefined;
  const signal = AbortSignal.any([opts.signal, timeout].filter((x): x is AbortSignal => !!x));
  const stopped = () => (timeout?.aborted ? `the scenario ran out of its ${plan.scenarioTimeoutMs! / 1000}s (timeouts.scenario)` : 'interrupted');
  opts = { ...opts, signal };
  let lab = new Lab(plan, opts);
  const steps: StepResult[] = [];
  let error: string | undefined;
  let consoles: Record<string, string> = {};
  let points: CheckpointPoint[] = [];
  let restored: CheckpointMeta | undefined;
  const checkpoint: CheckpointReport = { saved: [] };
  try {
    ({ lab, points, restored } = await section(`scenario ${plan.name}: set up ${plan.nodes.length} node(s)`, () => setUpOrRestore(lab, artifacts, checkpoint, opts, (fresh) => (lab = fresh))));
    if (restored) Object.assign(checkpoint, { restored: restored.checkpoint, key: restored.key });
    lab.vars['run.attempt'] = String(opts.attempt ?? 1);
    let failed = false;
    for (const step of plan.steps) {
      if (restored && step.index <= restored.afterStep) {
        steps.push({ index: step.index, name: step.name, kind: step.kind, node: step.node, line: step.line, status: 'skipped', startedAt: new Date().toISOString(), durationMs: 0, attempts: 0, message: `restored from checkpoint "${restored.checkpoint}": this step passed in the run that saved it (${restored.createdAt})` });
        continue;
      }
      if (failed || opts.signal?.aborted) {
        steps.push({ index: step.index, name: step.name, kind: step.kind, node: step.node, line: step.line, status: 'skipped', startedAt: new Date().toISOString(), durationMs: 0, attempts: 0, message: opts.signal?.aborted ? stopped() : 'an earlier step failed' });
        continue;
      }
      const after = points.find((p) => p.afterStep === step.index - 1);
      if (after && (!restored || restored.afterStep === after.afterStep)) {
        // Time to reach the first step after a checkpoint, without the time spent saving one.
        checkpoint.reached ??= { name: after.name, ms: Date.now() - t0 - checkpoint.saved.reduce((a, x) => a + x.ms, 0), mode: restored ? 'restored' : 'cold' };
      }
      const r = await section(`step ${step.index + 1}/${plan.steps.length}: ${step.name} [${render(step.node, lab.vars)}]`, () => runStep(step, lab, lab.vars, opts.signal));
      const trouble = lab.consoleTrouble();
      if (trouble.length) {
        r.status = 'failed';
        r.failures = [...(r.failures ?? []), ...trouble.map((f) => `console of ${f.node} shows a ${f.what}: ${f.line}`)];
        r.message = [r.message, ...trouble.map((f) => `${f.node} console:\n${indent(f.excerpt, '  | ')}`)].filter(Boolean).join('\n');
      }
      steps.push(r);
      logStep(r);
      if (r.status === 'failed') failed = true;
      const point = points.find((p) => p.afterStep === step.index);
      if (point && !failed && !opts.signal?.aborted) {
        const s0 = Date.now();
        const meta = await section(`save checkpoint "${point.name}"`, () => lab.saveCheckpoint(point, step.name));
        if (meta) checkpoint.saved.push({ name: point.name, key: meta.key, ms: Date.now() - s0, bytes: meta.size });
      }
    }
    if (opts.signal?.aborted) error = stopped();
    else if (opts.keepFailed && failed) await holdForInspection(lab, opts.signal!);
  } catch (err) {
    error = opts.signal?.aborted ? stopped() : formatError(err);
    log(`lab error: ${error}`);
    for (const step of plan.steps.slice(steps.length)) {
      steps.push({ index: step.index, name: step.name, kind: step.kind, node: step.node, line: step.line, status: 'skipped', startedAt: new Date().toISOString(), durationMs: 0, attempts: 0, message: opts.signal?.aborted ? stopped() : 'the lab could not be set up' });
    }
  } finally {
    if (opts.reportDir) consoles = lab.saveConsoles(opts.reportDir);
    await section('tear down', () => lab.tearDown());
  }
  const status = error ? 'error' : steps.some((s) => s.status === 'failed') ? 'failed' : 'passed';
  return {
    scenario: plan.name,
    file: relative(process.cwd(), plan.file),
    status,
    error,
    startedAt: new Date(t0).toISOString(),
    durationMs: Date.now() - t0,
    accel: lab.accel,
    phases: lab.phases,
    checkpoint: points.length || checkpoint.coldReason ? checkpoint : undefined,
    nodes: [...lab.nodes.values()].map((n) => ({
      name: n.plan.name,
      address: n.plan.address,
      bootStartedAt: lab.bootStartedAt,
      bootMs: n.bootMs,
      maxRssMb: Math.round(n.machine.maxRssKb / 1024),
      console: consoles[n.plan.name],
    })),
    steps,
  };
}

/** A scenario that cannot run here: every step skipped, with the reason. */
function skipped(plan: Plan, t0: number, reason: string): ScenarioResult {
  log(`SKIPPED ${plan.name}: ${reason}`);
  return {
    scenario: plan.name,
    file: relative(process.cwd(), plan.file),
    status: 'skipped',
    skipReason: reason,
    startedAt: new Date(t0).toISOString(),
    durationMs: Date.now() - t0,
    phases: {},
    nodes: [],
    steps: plan.steps.map((step) => ({ index: step.index, name: step.name, kind: step.kind, node: step.node, line: step.line, status: 'skipped', startedAt: new Date(t0).toISOString(), durationMs: 0, attempts: 0, message: `skipped: ${reason}` })),
  };
}

function logStep(r: StepResult): void {
  if (r.status === 'passed') {
    log(`ok (${seconds(r.durationMs)}${r.attempts > 1 ? `, ${r.attempts} attempts` : ''})`);
    return;
  }
  log(`FAILED: ${r.name} (scenario line ${r.line})`);
  if (r.command) log(`  on ${r.node}: $ ${r.command}`);
  if (r.exitCode !== undefined) log(`  exit status: ${r.exitCode ?? 'none'}`);
  for (const f of r.failures ?? []) log(`  - ${f}`);
  if (r.message) log(`  ${r.message}`);
  const out = [r.stdout, r.stderr].filter(Boolean).join('\n');
  if (out) log(`  output:\n${indent(tail(out, 20), '    | ')}`);
}

/** Leaves a failed lab running for a person to look at, until this process is told to stop. */
async function holdForInspection(lab: Lab, signal: AbortSignal): Promise<void> {
  log(`the lab is kept up for inspection (--keep): corelab status; corelab ssh NODE --lab ${lab.name}; corelab console NODE`);
  log(`tear it down with Ctrl-C here or: corelab down ${lab.name}`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
