import { relative } from 'node:path';
import type { Catalog } from '../images/catalog.js';
import type { Accel } from '../machine/accel.js';
import type { Step } from '../scenario/model.js';
import type { CheckedScenario } from '../cluster/plan.js';
import type { Lab } from '../cluster/lab.js';
import { Teardown } from '../cluster/teardown.js';
import { newFacts } from '../cluster/facts.js';
import { saveCheckpoint } from '../cluster/checkpoint.js';
import { formatError } from '../util/errors.js';
import { log, section, seconds } from '../util/log.js';
import { indent, tail } from '../util/text.js';
import { render } from '../util/template.js';
import { runStep } from './steps.js';
import { preflight } from './plan.js';
import { unmetRequirement } from './requires.js';
import { openLab, type Opened } from './open.js';
import type { CheckpointReport, ScenarioResult, StepResult } from './results.js';

export interface RunOptions {
  /** The catalog, read once per command. */
  catalog: Catalog;
  /** Where required artifacts are looked for first (--artifacts); else CORELAB_ARTIFACTS, then the cache. */
  artifactsDir?: string;
  accel?: Accel;
  signal?: AbortSignal;
  /** After a failed step, leave the lab up (ssh, console, status work) until Ctrl-C or corelab down. */
  keepFailed?: boolean;
  /** Where consoles are copied before the lab is torn down. */
  reportDir?: string;
  /** Run every step even when a checkpoint matches (checkpoints are still saved). */
  cold?: boolean;
  /** Boot a downloaded image even if it was imported without a checkable digest. */
  allowUnverified?: boolean;
  /** Which attempt this is (--rerun-failed), as {{run.attempt}}; 1 for the first. */
  attempt?: number;
}

/** Plan → lab resources → steps → result. The lab is torn down whatever happens. */
export async function runScenario(scenario: CheckedScenario, opts: RunOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  // Interrupted by the user, or out of time for the whole scenario: either stops the steps.
  const timeout = scenario.scenarioTimeoutMs ? AbortSignal.timeout(scenario.scenarioTimeoutMs) : undefined;
  const signal = AbortSignal.any([opts.signal, timeout].filter((x): x is AbortSignal => !!x));
  const stopped = () => (timeout?.aborted ? `the scenario ran out of its ${scenario.scenarioTimeoutMs! / 1000}s (timeouts.scenario)` : 'interrupted');
  const teardown = new Teardown();
  const facts = newFacts();
  const checkpoint: CheckpointReport = { saved: [] };
  const steps: StepResult[] = [];
  let error: string | undefined;
  let points = 0;
  try {
    const t1 = Date.now();
    const pre = await preflight(scenario, { catalog: opts.catalog, artifactsDir: opts.artifactsDir, accel: opts.accel, allowUnverified: opts.allowUnverified, signal });
    facts.phases.image = Date.now() - t1;
    if ('skip' in pre) return skipped(scenario, t0, pre.skip);
    facts.accel = pre.plan.accel;
    const opened = await section(`scenario ${scenario.name}: set up ${scenario.nodes.length} node(s)`, () => openLab(pre.plan, checkpoint, { signal, teardown, facts, reportDir: opts.reportDir, cold: opts.cold }));
    points = opened.points.length;
    opened.lab.vars['run.attempt'] = String(opts.attempt ?? 1);
    await runSteps(opened, steps, checkpoint, { t0, signal, stopped });
    if (signal.aborted) error = stopped();
    else if (opts.keepFailed && steps.some((s) => s.status === 'failed')) await holdForInspection(opened.lab, signal);
  } catch (err) {
    error = signal.aborted ? stopped() : formatError(err);
    log(`lab error: ${error}`);
    for (const step of scenario.steps.slice(steps.length)) steps.push(skippedStep(step, signal.aborted ? stopped() : 'the lab could not be set up'));
  } finally {
    if (teardown.size) await section('tear down', () => teardown.run());
  }
  const status = error ? 'error' : steps.some((s) => s.status === 'failed') ? 'failed' : 'passed';
  return {
    scenario: scenario.name,
    file: relative(process.cwd(), scenario.file),
    status,
    error,
    startedAt: new Date(t0).toISOString(),
    durationMs: Date.now() - t0,
    accel: facts.accel,
    phases: facts.phases,
    checkpoint: points || checkpoint.coldReason ? checkpoint : undefined,
    nodes: facts.nodes,
    steps,
  };
}

/** Each step in turn; after a failure (or an interrupt) the rest are reported as skipped. */
async function runSteps(opened: Opened, steps: StepResult[], checkpoint: CheckpointReport, ctx: { t0: number; signal: AbortSignal; stopped: () => string }): Promise<void> {
  const { lab, points, restored } = opened;
  let failed = false;
  for (const step of lab.plan.steps) {
    if (restored && step.index <= restored.afterStep) {
      steps.push(skippedStep(step, `restored from checkpoint "${restored.checkpoint}": this step passed in the run that saved it (${restored.createdAt})`));
      continue;
    }
    if (failed || ctx.signal.aborted) {
      steps.push(skippedStep(step, ctx.signal.aborted ? ctx.stopped() : 'an earlier step failed'));
      continue;
    }
    const unmet = unmetRequirement(step, lab.plan);
    if (unmet) {
      log(`SKIPPED step ${step.index + 1}/${lab.plan.steps.length}: ${step.name}: ${unmet}`);
      steps.push(skippedStep(step, unmet));
      continue;
    }
    const after = points.find((p) => p.afterStep === step.index - 1);
    if (after && (!restored || restored.afterStep === after.afterStep)) {
      // Time to reach the first step after a checkpoint, without the time spent saving one.
      checkpoint.reached ??= { name: after.name, ms: Date.now() - ctx.t0 - checkpoint.saved.reduce((a, x) => a + x.ms, 0), mode: restored ? 'restored' : 'cold' };
    }
    const r = await section(`step ${step.index + 1}/${lab.plan.steps.length}: ${step.name} [${render(step.node, lab.vars)}]`, () => runStep(step, lab, lab.vars, ctx.signal));
    await addTrouble(lab, r);
    steps.push(r);
    logStep(r);
    if (r.status === 'failed') failed = true;
    const point = points.find((p) => p.afterStep === step.index);
    if (point && !failed && !ctx.signal.aborted) {
      const s0 = Date.now();
      const meta = await section(`save checkpoint "${point.name}"`, () => saveCheckpoint(lab, point, step.name));
      if (meta) checkpoint.saved.push({ name: point.name, key: meta.key, ms: Date.now() - s0, bytes: meta.size });
    }
  }
}

/** A panic, oops, emergency shell or failed unit on any console or journal since the last step fails this one. */
async function addTrouble(lab: Lab, r: StepResult): Promise<void> {
  const trouble = await lab.trouble();
  if (!trouble.length) return;
  r.status = 'failed';
  r.failures = [...(r.failures ?? []), ...trouble.map((f) => `${f.where} of ${f.node} shows a ${f.what}: ${f.line}`)];
  r.message = [r.message, ...trouble.map((f) => `${f.node} ${f.where}:\n${indent(f.excerpt, '  | ')}`)].filter(Boolean).join('\n');
}

function skippedStep(step: Step, message: string, at = new Date()): StepResult {
  return { index: step.index, name: step.name, kind: step.kind, node: step.node, line: step.line, status: 'skipped', startedAt: at.toISOString(), durationMs: 0, attempts: 0, message };
}

/** A scenario that cannot run here: every step skipped, with the reason. */
function skipped(s: CheckedScenario, t0: number, reason: string): ScenarioResult {
  log(`SKIPPED ${s.name}: ${reason}`);
  return {
    scenario: s.name,
    file: relative(process.cwd(), s.file),
    status: 'skipped',
    skipReason: reason,
    startedAt: new Date(t0).toISOString(),
    durationMs: Date.now() - t0,
    phases: {},
    nodes: [],
    steps: s.steps.map((step) => skippedStep(step, `skipped: ${reason}`, new Date(t0))),
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
