import { join } from 'node:path';
import type { CheckedScenario as Plan } from '../cluster/plan.js';
import { log } from '../util/log.js';
import { runScenario, type RunOptions } from './runner.js';
import type { AttemptReport, ScenarioResult, StepResult } from './results.js';

/** Where an attempt's consoles go: attempt 1 where a run without reruns puts them, a rerun in attempt-N/. */
export function attemptDir(reportDir: string | undefined, attempt: number): string | undefined {
  return reportDir && attempt > 1 ? join(reportDir, `attempt-${attempt}`) : reportDir;
}

const failedStatus = (s: ScenarioResult['status']) => s === 'failed' || s === 'error';

/**
 * Runs a scenario; while it fails (a step failed, or the lab could not be set up), runs it again,
 * cold, up to `reruns` more times. A scenario that passes on a rerun is flaky. Every attempt is
 * kept in `attempts` when there was more than one. An interrupted run is not rerun.
 */
export async function runWithReruns(plan: Plan, opts: RunOptions, reruns: number, run: typeof runScenario = runScenario): Promise<ScenarioResult> {
  const attempts: AttemptReport[] = [];
  for (let attempt = 1; ; attempt++) {
    const reportDir = attemptDir(opts.reportDir, attempt);
    const r = await run(plan, { ...opts, reportDir, attempt, cold: attempt > 1 ? true : opts.cold });
    if (attempt > 1) for (const n of r.nodes) if (n.console) n.console = `attempt-${attempt}/${n.console}`;
    if (reruns === 0) return r;
    attempts.push({ ...r, attempt });
    if (!failedStatus(r.status) || attempt > reruns || opts.signal?.aborted) return classify(attempts);
    log(`${plan.name}: attempt ${attempt} of up to ${reruns + 1} ${r.status}${failedAt(r)}; running it again, cold (--rerun-failed ${reruns})`);
  }
}

/** The result of a scenario's attempts: the last one, flaky when it passed after a failure, with every attempt. */
export function classify(attempts: AttemptReport[]): ScenarioResult {
  const last = attempts[attempts.length - 1];
  const { attempt, ...rest } = last;
  if (attempts.length === 1) return { ...rest };
  const flaky = last.status === 'passed' && attempts.some((a) => failedStatus(a.status));
  return { ...rest, status: flaky ? 'flaky' : last.status, attempt, attempts };
}

/** " at step N "name"", or the first line of the set-up error, for one line of log. */
function failedAt(r: ScenarioResult): string {
  const s = r.steps.find((x) => x.status === 'failed');
  if (s) return ` at step ${s.index + 1} "${s.name}"`;
  return r.error ? `: ${r.error.split('\n')[0]}` : '';
}

/** The step that failed in an attempt, if one did. */
export function failedStep(a: { steps: StepResult[] }): StepResult | undefined {
  return a.steps.find((x) => x.status === 'failed');
}

/** Whether a run's results make corelab exit 0: everything passed or was skipped; flaky counts unless failOnFlaky. */
export function allPassed(results: ScenarioResult[], failOnFlaky = false): boolean {
  return results.every((r) => r.status === 'passed' || r.status === 'skipped' || (r.status === 'flaky' && !failOnFlaky));
}

/** Lines for the terminal summary: each earlier failed attempt of a rerun scenario, and how it ended. */
export function attemptLines(r: ScenarioResult, file = r.file): string[] {
  if (!r.attempts || r.attempts.length < 2) return [];
  const out: string[] = [];
  for (const a of r.attempts) {
    const s = failedStep(a);
    const why = s ? `step ${s.index + 1} "${s.name}" (${file}:${s.line}): ${(s.failures ?? [s.message ?? 'failed']).join('; ')}` : (a.error ?? '').split('\n')[0];
    out.push(`attempt ${a.attempt}/${r.attempts.length}${a.attempt > 1 ? ' (cold)' : ''}: ${a.status}${failedStatus(a.status) ? ` at ${why}` : ''}`);
  }
  if (r.status === 'flaky') out.push(`flaky: failed ${r.attempts.filter((a) => failedStatus(a.status)).length} time(s), passed on attempt ${r.attempt}`);
  return out;
}
