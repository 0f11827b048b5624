// Issue 12: the cold boot-to-SSH of a labos node whose config is applied by Ignition (the article's
// Ignition JSON, in the dracut initramfs) and of one whose config is a cloud-config (cloud-init),
// side by side: scenarios/basic-config/ignition.yaml and scenarios/basic-config/scenario.yaml, one
// node each, BENCH_RUNS cold runs each (default 3), the median.
import { join } from 'node:path';
import { corelabRun, here, median, printTable, scratch, sec, type Report } from './common.js';

export async function agents(runs: number): Promise<boolean> {
  process.stdout.write('\n== Ignition vs cloud-config: one labos node, cold boot to SSH\n');
  const byAgent: Array<[string, string, Report[]]> = [
    ['Ignition (basic-config/ignition.yaml)', 'scenarios/basic-config/ignition.yaml', []],
    ['cloud-config (basic-config/scenario.yaml)', 'scenarios/basic-config/scenario.yaml', []],
  ];
  for (let i = 1; i <= runs; i++) {
    for (const [, file, reports] of byAgent) reports.push(...(await corelabRun(here, join(here, file), join(scratch, 'agents', `${i}-${file.replace(/\W/g, '_')}`))));
  }
  const rows = byAgent.map(([label, , reports]) => {
    const boots = reports.map((r) => r.nodes[0]?.bootMs ?? NaN);
    return [label, reports[0]?.nodes[0]?.agent ?? 'n/a', sec(median(boots)), boots.map(sec).join(', '), `${reports.filter((r) => r.status === 'passed').length}/${runs}`];
  });
  printTable(`boot to SSH, median of ${runs} cold runs`, ['node config', 'agent', 'median', 'runs', 'passed'], rows);
  return byAgent.every(([, , reports]) => reports.length === runs && reports.every((r) => r.status === 'passed'));
}
