// npm run bench: one cold run of the etcd-discovery scenario, printing the time of each phase
// and the host memory of each VM. Figures, not assertions: targets live here, not in tests.
import { loadScenario } from '../lab/scenario.js';
import { runScenario } from '../lab/runner.js';
import { seconds } from '../lab/log.js';

const plan = loadScenario('scenarios/etcd-discovery');
const result = await runScenario(plan);
const step = (re: RegExp) => result.steps.find((s) => re.test(s.name));
const healthy = step(/three healthy members/);

const rows: Array<[string, string]> = [
  ['accelerator', result.accel ?? '?'],
  ['image (build or reuse)', seconds(result.phases.image ?? 0)],
  ['host services (discovery etcd, switch)', seconds(result.phases['host services'] ?? 0)],
  ...result.nodes.map((n): [string, string] => [`boot to SSH: ${n.name}`, n.bootMs ? seconds(n.bootMs) : 'n/a']),
  ['boot to SSH: all nodes', seconds(result.phases.boot ?? 0)],
  ['cluster healthy (after SSH)', healthy ? seconds(healthy.durationMs) : 'n/a'],
  ['whole scenario', seconds(result.durationMs)],
  ...result.nodes.map((n): [string, string] => [`peak host RSS: ${n.name}`, `${n.maxRssMb} MiB`]),
  ['result', `${result.status} (${result.steps.filter((s) => s.status === 'passed').length}/${result.steps.length} steps passed)`],
];
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`\netcd-discovery bench\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
process.exitCode = result.status === 'passed' ? 0 : 1;
