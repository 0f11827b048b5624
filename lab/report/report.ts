import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from '../run/results.js';
import { tail } from '../util/text.js';
import { htmlReport } from './html.js';

/** Writes junit.xml (one test case per step), report.json and report.html into dir. */
export function writeReports(dir: string, results: ScenarioResult[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ generatedAt: new Date().toISOString(), scenarios: results }, null, 2) + '\n');
  writeFileSync(join(dir, 'junit.xml'), junit(results));
  writeFileSync(join(dir, 'report.html'), htmlReport(results, (r) => (results.length > 1 ? `${r.scenario}${r.run ? `-run${r.run}` : ''}/` : '')));
}

export function junit(results: ScenarioResult[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = results.flatMap((r) => r.steps);
  out.push(`<testsuites tests="${all.length}" failures="${all.filter((s) => s.status === 'failed').length}" errors="${results.filter((r) => r.error).length}" time="${secs(results.reduce((a, r) => a + r.durationMs, 0))}">`);
  for (const r of results) {
    const failures = r.steps.filter((s) => s.status === 'failed').length;
    const skipped = r.steps.filter((s) => s.status === 'skipped').length;
    const suite = r.run ? `${r.scenario} (run ${r.run}/${r.runs})` : r.scenario;
    out.push(`  <testsuite name="${x(suite)}" file="${x(r.file)}" tests="${r.steps.length + (r.error ? 1 : 0)}" failures="${failures}" errors="${r.error ? 1 : 0}" skipped="${skipped}" time="${secs(r.durationMs)}" timestamp="${r.startedAt}">`);
    if (r.error) {
      out.push(`    <testcase classname="${x(r.scenario)}" name="lab set-up" time="0">`);
      out.push(`      <error message="${x(r.error.split('\n')[0])}">${x(r.error)}</error>`);
      out.push('    </testcase>');
    }
    for (const s of r.steps) {
      const name = `${String(s.index + 1).padStart(2, '0')} ${s.name}`;
      out.push(`    <testcase classname="${x(r.scenario)}" name="${x(name)}" time="${secs(s.durationMs)}">`);
      if (s.status === 'skipped') out.push(`      <skipped message="${x(s.message ?? '')}"/>`);
      if (s.status === 'failed') {
        const body = [
          s.command ? `on ${s.node}: $ ${s.command}` : '',
          s.exitCode !== undefined ? `exit status: ${s.exitCode ?? 'none'}` : '',
          ...(s.failures ?? []).map((f) => `- ${f}`),
          s.message ?? '',
          s.stdout ? `stdout:\n${tail(s.stdout, 40)}` : '',
          s.stderr ? `stderr:\n${tail(s.stderr, 40)}` : '',
        ].filter(Boolean);
        out.push(`      <failure message="${x((s.failures ?? [s.message ?? 'failed']).join('; '))}">${x(body.join('\n'))}</failure>`);
      }
      if (s.stdout) out.push(`      <system-out>${x(tail(s.stdout, 60))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function x(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
