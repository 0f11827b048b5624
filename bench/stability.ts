// Issue 15, item 6: repeat stability. `corelab run --repeat N --cold` of the one-node fixture (its
// deliberately wrong last step left out, so a run can pass) and `--repeat M` of etcd-discovery
// restored from its checkpoint (one cold run saves it first). Prints runs passed, the flake count
// (runs that failed) and the run times. BENCH_REPEAT_COLD (default 20), BENCH_REPEAT_RESTORED (5).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { corelabRun, here, median, printTable, scratch, sec, type Report } from './common.js';

/** The one-node fixture without its deliberately failing step, in a folder of the bench's own. */
function passingOneNode(): string {
  const from = join(here, 'test', 'fixtures', 'one-node');
  const dir = join(scratch, 'one-node');
  mkdirSync(dir, { recursive: true });
  const s = parse(readFileSync(join(from, 'scenario.yaml'), 'utf8')) as { name: string; steps: Array<{ name: string }> };
  s.name = 'one-node';
  s.steps = s.steps.filter((x) => !x.name.startsWith('deliberately wrong'));
  writeFileSync(join(dir, 'scenario.yaml'), stringify(s));
  copyFileSync(join(from, 'cloud-config.yaml'), join(dir, 'cloud-config.yaml'));
  return dir;
}

interface Row { what: string; reports: Report[]; asked: number }

const row = ({ what, reports, asked }: Row): string[] => {
  const passed = reports.filter((r) => r.status === 'passed').length;
  return [what, `${passed}/${asked}`, String(asked - passed), sec(median(reports.map((r) => r.durationMs))), sec(Math.max(...reports.map((r) => r.durationMs)))];
};

export async function stability(coldRuns: number, restoredRuns: number): Promise<boolean> {
  process.stdout.write('\n== repeat stability\n');
  const rows: Row[] = [];
  rows.push({ what: `one-node --repeat ${coldRuns} --cold`, asked: coldRuns, reports: await corelabRun(here, passingOneNode(), join(scratch, 'repeat-one-node'), ['--cold', '--repeat', String(coldRuns)]) });
  const etcd = join(here, 'scenarios', 'etcd-discovery');
  const seed = await corelabRun(here, etcd, join(scratch, 'repeat-etcd-seed'), ['--cold']);
  const restored = await corelabRun(here, etcd, join(scratch, 'repeat-etcd'), ['--repeat', String(restoredRuns)]);
  // A run that did not start from the checkpoint measured a cold run: it is not counted as a
  // restored run that passed, and the line below says how many went cold.
  const fromCheckpoint = restored.filter((r) => r.checkpoint?.restored);
  if (fromCheckpoint.length < restored.length) process.stdout.write(`  ${restored.length - fromCheckpoint.length} of the etcd-discovery runs did not start from the checkpoint (they ran cold)\n`);
  rows.push({ what: `etcd-discovery --repeat ${restoredRuns} (restored)`, asked: restoredRuns, reports: fromCheckpoint });
  printTable('runs that passed, flakes (runs that failed) and run times', ['what', 'passed', 'flakes', 'median', 'slowest'], rows.map(row));
  process.stdout.write(`flake count: ${rows.reduce((n, r) => n + r.asked - r.reports.filter((x) => x.status === 'passed').length, 0)} (the checkpoint's seed run: ${seed[0]?.status ?? 'no report'})\n`);
  return seed[0]?.status === 'passed' && rows.every((r) => r.reports.length === r.asked && r.reports.every((x) => x.status === 'passed'));
}
