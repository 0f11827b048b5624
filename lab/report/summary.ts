import { mb } from '../download/download.js';
import { seconds } from '../util/log.js';
import type { ScenarioResult } from '../run/results.js';
import { attemptLines } from '../run/attempts.js';

/** What a run prints at its end on stdout: one block per scenario, failures with their output. */
export function summaryText(results: ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    const count = (status: string) => r.steps.filter((s) => s.status === status).length;
    out.push(`${r.status.toUpperCase()} ${r.scenario}${r.run ? ` (run ${r.run}/${r.runs})` : ''} in ${seconds(r.durationMs)}: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
    if (r.error) out.push(`  ${r.error.split('\n').join('\n  ')}`);
    if (r.skipReason) out.push(`  skipped: ${r.skipReason}`);
    for (const l of attemptLines(r)) out.push(`  ${l}`);
    const cp = r.checkpoint;
    if (cp?.restored) out.push(`  restored from checkpoint "${cp.restored}" (${cp.key}): the steps before it were not run again`);
    else if (cp?.coldReason) out.push(`  cold run: ${cp.coldReason}`);
    for (const x of cp?.saved ?? []) out.push(`  saved checkpoint "${x.name}" (${x.key}, ${mb(x.bytes)}) in ${seconds(x.ms)}`);
    for (const s of r.steps.filter((x) => x.status === 'failed')) {
      out.push(`  failed: step ${s.index + 1} "${s.name}" (${r.file}:${s.line}) on ${s.node}`);
      if (s.command) out.push(`    $ ${s.command}\n    exit status ${s.exitCode ?? 'none'}`);
      for (const f of s.failures ?? []) out.push(`    - ${f}`);
      if (s.message) out.push(`    ${s.message}`);
      const got = (s.stdout ?? '').trimEnd();
      if (got) out.push(`    got:\n${got.split('\n').slice(-15).map((l) => `      ${l}`).join('\n')}`);
    }
  }
  return out.map((l) => l + '\n').join('');
}
