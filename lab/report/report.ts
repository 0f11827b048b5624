/**
 * The report layer (lab/report/): what a run leaves for people and CI: report.json and the files
 * beside it (this file), junit.xml (junit.ts), report.html (html.ts), the terminal summary
 * (summary.ts) and the history of many nights (history.ts, historyhtml.ts). It reads the result
 * types of lab/run/results.ts and may import any layer below it, never cli/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from '../run/results.js';
import { junit } from './junit.js';
import { htmlReport } from './html.js';

export { junit };

/** Writes junit.xml (one test case per step), report.json and report.html into dir. */
export function writeReports(dir: string, results: ScenarioResult[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ generatedAt: new Date().toISOString(), startedAt: startOf(results), scenarios: results }, null, 2) + '\n');
  writeFileSync(join(dir, 'junit.xml'), junit(results));
  writeFileSync(join(dir, 'report.html'), htmlReport(results, (r) => (results.length > 1 ? `${r.scenario}${r.run ? `-run${r.run}` : ''}/` : '')));
}

/** When the earliest scenario of a run started (what corelab history orders nights by). */
function startOf(results: ScenarioResult[]): string | undefined {
  return results.map((r) => r.startedAt).sort()[0];
}
