import type { AttemptReport, ScenarioResult } from '../run/results.js';
import type { StepResult } from '../run/results.js';
import { tail } from '../util/text.js';

/**
 * junit.xml: a test suite per scenario, a test case per step. With --rerun-failed, as Maven Surefire
 * writes reruns: a test case that passed on a rerun has a <flakyFailure> per failed attempt; one that
 * failed every time has <failure> (its first failure) and a <rerunFailure> per later one. A lab that
 * could not be set up is a "lab set-up" test case with <error> (and <rerunError>), or, when a later
 * attempt set it up, a passing one with <flakyError>.
 */
export function junit(results: ScenarioResult[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = results.flatMap((r) => r.steps);
  out.push(`<testsuites tests="${all.length + results.filter(hasSetupCase).length}" failures="${all.filter((s) => s.status === 'failed').length}" errors="${results.filter((r) => r.error).length}" time="${secs(results.reduce((a, r) => a + r.durationMs, 0))}">`);
  for (const r of results) {
    const failures = r.steps.filter((s) => s.status === 'failed').length;
    const skipped = r.steps.filter((s) => s.status === 'skipped').length;
    const suite = r.run ? `${r.scenario} (run ${r.run}/${r.runs})` : r.scenario;
    out.push(`  <testsuite name="${x(suite)}" file="${x(r.file)}" tests="${r.steps.length + (hasSetupCase(r) ? 1 : 0)}" failures="${failures}" errors="${r.error ? 1 : 0}" skipped="${skipped}" time="${secs(r.durationMs)}" timestamp="${r.startedAt}">`);
    if (hasSetupCase(r)) out.push(...setupCase(r));
    for (const s of r.steps) out.push(...stepCase(r, s));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/** The attempts before the one a result reports. */
function earlier(r: ScenarioResult): AttemptReport[] {
  return (r.attempts ?? []).slice(0, -1);
}

function hasSetupCase(r: ScenarioResult): boolean {
  return !!r.error || earlier(r).some((a) => a.error);
}

function setupCase(r: ScenarioResult): string[] {
  const errors = [...earlier(r).map((a) => a.error), r.error].filter((e): e is string => !!e);
  const out = [`    <testcase classname="${x(r.scenario)}" name="lab set-up" time="0">`];
  errors.forEach((e, i) => {
    const tag = !r.error ? 'flakyError' : i === 0 ? 'error' : 'rerunError';
    if (tag === 'error') out.push(`      <error message="${x(firstLine(e))}">${x(e)}</error>`);
    else out.push(`      <${tag} message="${x(firstLine(e))}" type="LabError">`, `        <stackTrace>${x(e)}</stackTrace>`, `      </${tag}>`);
  });
  out.push('    </testcase>');
  return out;
}

function stepCase(r: ScenarioResult, s: StepResult): string[] {
  const name = `${String(s.index + 1).padStart(2, '0')} ${s.name}`;
  const out = [`    <testcase classname="${x(r.scenario)}" name="${x(name)}" time="${secs(s.durationMs)}">`];
  if (s.status === 'skipped') out.push(`      <skipped message="${x(s.message ?? '')}"/>`);
  // This step's failures over the attempts, oldest first (the one reported last, when it failed).
  const failed = [...earlier(r).map((a) => a.steps.find((x) => x.index === s.index)), s].filter((f): f is StepResult => f?.status === 'failed');
  if (s.status === 'passed') {
    for (const f of failed) out.push(...rerunElement('flakyFailure', f));
  } else if (s.status === 'failed') {
    out.push(`      <failure message="${x(message(failed[0]))}">${x(failureBody(failed[0]))}</failure>`);
    for (const f of failed.slice(1)) out.push(...rerunElement('rerunFailure', f));
  }
  if (s.stdout) out.push(`      <system-out>${x(tail(s.stdout, 60))}</system-out>`);
  out.push('    </testcase>');
  return out;
}

/** A <flakyFailure> or <rerunFailure>: message and type, the failure as <stackTrace>, the attempt's output. */
function rerunElement(tag: 'flakyFailure' | 'rerunFailure', f: StepResult): string[] {
  const out = [`      <${tag} message="${x(message(f))}" type="StepFailure">`, `        <stackTrace>${x(failureBody(f))}</stackTrace>`];
  if (f.stdout) out.push(`        <system-out>${x(tail(f.stdout, 60))}</system-out>`);
  if (f.stderr) out.push(`        <system-err>${x(tail(f.stderr, 60))}</system-err>`);
  out.push(`      </${tag}>`);
  return out;
}

function message(s: StepResult): string {
  return (s.failures ?? [s.message ?? 'failed']).join('; ');
}

/** What a failed step ran, its exit status, what did not hold, and its output tail. */
export function failureBody(s: StepResult): string {
  return [
    s.command ? `on ${s.node}: $ ${s.command}` : '',
    s.exitCode !== undefined ? `exit status: ${s.exitCode ?? 'none'}` : '',
    ...(s.failures ?? []).map((f) => `- ${f}`),
    s.message ?? '',
    s.stdout ? `stdout:\n${tail(s.stdout, 40)}` : '',
    s.stderr ? `stderr:\n${tail(s.stderr, 40)}` : '',
  ].filter(Boolean).join('\n');
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export function x(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
