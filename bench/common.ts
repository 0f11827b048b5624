// What the bench sections share: a scratch folder, one run of a scenario through a tree's own CLI
// (its own checkpoint store and state dir), the report it writes, and the figures' formatting.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { execa } from 'execa';

export const here = resolve(import.meta.dirname, '..');
export const scratch = mkdtempSync(join(tmpdir(), 'corelab-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

export interface Report {
  name: string;
  status: string;
  durationMs: number;
  /** ms per set-up phase (image, host services, templates, boot, restore). */
  phases?: Record<string, number>;
  nodes: Array<{ name: string; agent?: string; bootMs?: number }>;
  steps: Array<{ status: string }>;
  /** restored: the checkpoint the run started from, when it did. */
  checkpoint?: { restored?: string };
}

/**
 * Runs `corelab run SCENARIO ARGS --report OUT` with the tree's own CLI and returns every scenario
 * report it wrote (one, or one per --repeat run), in order.
 */
export async function corelabRun(tree: string, scenario: string, out: string, args: string[] = ['--cold']): Promise<Report[]> {
  const env = { CORELAB_CHECKPOINTS: join(scratch, 'checkpoints'), CORELAB_STATE: join(scratch, 'state') };
  const label = `${tree === here ? '' : 'before: '}${scenario.startsWith(`${tree}/`) ? relative(tree, scenario) : basename(scenario)} ${args.join(' ')}`;
  process.stdout.write(`  ${label} ... `);
  const r = await execa('node', [join(tree, 'bin', 'corelab.js'), 'run', scenario, ...args, '--report', out], { cwd: tree, env, reject: false, all: true });
  let reports: Report[];
  try {
    reports = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { scenarios: Report[] }).scenarios;
  } catch {
    process.stdout.write(`no report (exit ${r.exitCode}):\n${r.all?.split('\n').slice(-15).join('\n')}\n`);
    return [];
  }
  process.stdout.write(`${reports.map((x) => `${x.status} in ${sec(x.durationMs)}`).join(', ')}\n`);
  return reports;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
export const sec = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');

/** A table of label and columns, right-aligned figures. */
export function printTable(title: string, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${title}\n${line(head)}\n${rows.map(line).join('\n')}\n`);
}
