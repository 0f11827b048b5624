import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { loadPlan } from '../run/plan.js';
import { allPassed, runWithReruns } from '../run/attempts.js';
import type { ScenarioResult } from '../run/results.js';
import { writeReports } from '../report/report.js';
import { summaryText } from '../report/summary.js';
import { cleanStaleLabs } from '../cluster/state.js';
import { flaky, shard } from '../scenario/selection.js';
import { LabError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { CliContext } from './context.js';
import { checkReportDir } from './reportdir.js';

interface RunFlags {
  report?: string;
  keep?: boolean;
  accel?: 'kvm' | 'tcg';
  repeat: number;
  shard?: string;
  artifacts?: string;
  cold?: boolean;
  allowConfigDir?: string[];
  allowUnverified?: boolean;
  rerunFailed: number;
  failOnFlaky?: boolean;
}

/** `corelab run` and `corelab lint`. */
export function runCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run scenarios (folders with a scenario.yaml, or the files); exit 0 only if every step passes')
    .argument('<scenario...>')
    .option('--report <dir>', 'write junit.xml, report.json and consoles/ into this folder')
    .option('--keep', 'after a failed step, leave the lab up for inspection (status, ssh, console) until Ctrl-C or corelab down')
    .option('--artifacts <dir>', 'a folder with artifacts scenarios require (fleetd and fleetctl, or the fleet release tarball)')
    .option('--repeat <n>', 'run each scenario N times, to expose flakes', (v) => positive(v, '--repeat'), 1)
    .option('--shard <i/n>', 'run only shard I of N of the scenarios (for a CI matrix)')
    .option('--cold', 'run every step even when a saved checkpoint matches (checkpoints are saved again)')
    .option('--allow-config-dir <dir...>', 'a folder outside the scenario\'s own that node configs may come from')
    .option('--rerun-failed <n>', 'run a failed scenario again, cold, up to N times; one that then passes is reported flaky', (v) => positive(v, '--rerun-failed'), 0)
    .option('--fail-on-flaky', 'exit 1 when a scenario is flaky (failed, then passed on a rerun)')
    .option('--allow-unverified', 'boot a downloaded image that was imported without a checkable digest')
    .addOption(new Option('--accel <accel>', 'force the accelerator').choices(['kvm', 'tcg']))
    .action(async (paths: string[], o: RunFlags) => {
      if (o.report) checkReportDir(o.report); // before anything boots
      let plans = paths.map((p) => loadPlan(p, { catalog: ctx.catalog, allowConfigDirs: o.allowConfigDir }));
      if (o.shard) {
        plans = shard(plans, o.shard);
        log(`shard ${o.shard}: ${plans.map((p) => p.name).join(', ') || 'no scenarios'}`);
      }
      cleanStaleLabs();
      const results: ScenarioResult[] = [];
      for (const plan of plans) {
        for (let run = 1; run <= o.repeat; run++) {
          if (ctx.signal.aborted) break;
          const sub = plans.length > 1 || o.repeat > 1 ? `${plan.name}${o.repeat > 1 ? `-run${run}` : ''}` : '';
          const reportDir = o.report ? join(o.report, sub) : undefined;
          const r = await runWithReruns(plan, { catalog: ctx.catalog, reportDir, keepFailed: o.keep, accel: o.accel, artifactsDir: o.artifacts, cold: o.cold, allowUnverified: o.allowUnverified, signal: ctx.signal }, o.rerunFailed);
          if (o.repeat > 1) Object.assign(r, { run, runs: o.repeat });
          results.push(r);
        }
      }
      if (o.report) writeReports(o.report, results);
      process.stdout.write(summaryText(results));
      if (o.repeat > 1) {
        const flakes = flaky(results);
        process.stdout.write(`${flakes.length} flaky scenario(s)${flakes.length ? `: ${flakes.join(', ')}` : ''} over ${o.repeat} runs each\n`);
      }
      ctx.code = ctx.signal.aborted ? 130 : allPassed(results, o.failOnFlaky) ? 0 : 1;
    });

  program
    .command('lint')
    .description('check scenario files and their node configs without booting anything')
    .argument('<scenario...>')
    .option('--allow-config-dir <dir...>', 'a folder outside the scenario\'s own that node configs may come from')
    .action((paths: string[], o: { allowConfigDir?: string[] }) => {
      for (const p of paths) {
        const plan = loadPlan(p, { catalog: ctx.catalog, allowConfigDirs: o.allowConfigDir });
        process.stdout.write(`${p}: ok (${plan.nodes.length} nodes, ${plan.steps.length} steps)\n`);
      }
    });
}

function positive(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new LabError(`${what} takes a whole number of at least 1, got "${v}"`, { fix: `e.g. ${what} 3` });
  return n;
}
