// npm run bench:checkpoints: figures, not assertions (targets live here, not in tests).
// 1. The etcd-discovery scenario cold: the time of each phase and the host memory of each VM.
// 2. Checkpoints: etcd-discovery and swarm-drain-replicate each run cold (saving their checkpoint)
//    and then restored from it; the time from the start of the run to the first step after the
//    checkpoint, both ways, and the ratio. The bench uses its own checkpoint store, emptied first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlan } from '../lab/run/plan.js';
import { runScenario } from '../lab/run/runner.js';
import type { ScenarioResult } from '../lab/run/results.js';
import { loadCatalog } from '../lab/images/catalog.js';
import { seconds } from '../lab/util/log.js';

const store = mkdtempSync(join(tmpdir(), 'corelab-bench-checkpoints-'));
process.env.CORELAB_CHECKPOINTS = store;
process.on('exit', () => rmSync(store, { recursive: true, force: true }));

const table = (title: string, rows: Array<[string, string]>) => {
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n${title}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
};
const outcome = (r: ScenarioResult) => `${r.status} (${r.steps.filter((s) => s.status === 'passed').length}/${r.steps.length} steps passed${r.steps.some((s) => s.status === 'skipped') ? `, ${r.steps.filter((s) => s.status === 'skipped').length} restored` : ''})`;

const catalog = loadCatalog();
const pairs: Array<{ name: string; cold: ScenarioResult; restored: ScenarioResult }> = [];
for (const path of ['scenarios/etcd-discovery', 'scenarios/swarm-drain-replicate']) {
  const plan = loadPlan(path, { catalog });
  const cold = await runScenario(plan, { catalog, cold: true });
  const restored = await runScenario(plan, { catalog });
  pairs.push({ name: plan.name, cold, restored });
  if (plan.name === 'etcd-discovery') {
    const healthy = cold.steps.find((s) => /three healthy members/.test(s.name));
    table('etcd-discovery, cold', [
      ['accelerator', cold.accel ?? '?'],
      ['image (build or reuse)', seconds(cold.phases.image ?? 0)],
      ['host services (discovery etcd, switch)', seconds(cold.phases['host services'] ?? 0)],
      ...cold.nodes.map((n): [string, string] => [`boot to SSH: ${n.name}`, n.bootMs ? seconds(n.bootMs) : 'n/a']),
      ['boot to SSH: all nodes', seconds(cold.phases.boot ?? 0)],
      ['cluster healthy (after SSH)', healthy ? seconds(healthy.durationMs) : 'n/a'],
      ['whole scenario (checkpoint save included)', seconds(cold.durationMs)],
      ...cold.nodes.map((n): [string, string] => [`peak host RSS: ${n.name}`, `${n.maxRssMb} MiB`]),
      ['result', outcome(cold)],
    ]);
  }
}

for (const { name, cold, restored } of pairs) {
  const c = cold.checkpoint;
  const r = restored.checkpoint;
  const ok = c?.reached?.mode === 'cold' && r?.reached?.mode === 'restored';
  table(`checkpoint "${c?.saved[0]?.name ?? '?'}" of ${name}`, [
    ['cold: start to first step after it', c?.reached ? seconds(c.reached.ms) : 'n/a'],
    ['restored: start to first step after it', r?.reached ? seconds(r.reached.ms) : `n/a${r?.coldReason ? ` (${r.coldReason})` : ''}`],
    ['ratio (cold / restored)', ok ? `${(c!.reached!.ms / r!.reached!.ms).toFixed(1)}x` : 'n/a'],
    ['saving it (not in the cold time above)', c?.saved[0] ? `${seconds(c.saved[0].ms)}, ${Math.round(c.saved[0].bytes / 1e6)} MB` : 'not saved'],
    ['restore: host services / VMs to SSH', `${seconds(restored.phases['host services'] ?? 0)} / ${seconds(restored.phases.restore ?? 0)}`],
    ['whole scenario: cold / restored', `${seconds(cold.durationMs)} / ${seconds(restored.durationMs)}`],
    ['result: cold', outcome(cold)],
    ['result: restored', outcome(restored)],
  ]);
}
process.exitCode = pairs.every((p) => p.cold.status === 'passed' && p.restored.status === 'passed') ? 0 : 1;
