import type { ScenarioResult } from '../../lab/run/results.js';
import type { StepResult } from '../../lab/run/results.js';

/** A step result shaped like the runner's. */
export function stepResult(index: number, name: string, status: StepResult['status'], startedAt: string, ms: number, extra: Partial<StepResult> = {}): StepResult {
  return {
    index, name, kind: 'run', node: 'node00', line: 10 + 4 * index, status, startedAt, durationMs: ms, attempts: status === 'skipped' ? 0 : 1,
    ...(status === 'skipped' ? { message: 'an earlier step failed' } : { command: `check ${index}`, exitCode: status === 'failed' ? 1 : 0, stdout: `output of ${name}\n` }),
    ...(status === 'failed' ? { failures: [`exit status 1, expected 0`], stderr: 'boom\n' } : {}),
    ...extra,
  };
}

/**
 * A scenario result shaped like the runner's: steps named in `steps` with their seconds; `failAt`
 * fails that step (the ones after it skipped).
 */
export function scenarioResult(startedAt: string, steps: Array<[string, number]>, opts: { failAt?: number; error?: string; bootMs?: number[]; scenario?: string } = {}): ScenarioResult {
  const t0 = Date.parse(startedAt);
  let t = 100_000;
  const results = steps.map(([name, secs], i) => {
    const status = opts.error || (opts.failAt !== undefined && i > opts.failAt) ? 'skipped' : i === opts.failAt ? 'failed' : 'passed';
    const r = stepResult(i, name, status, new Date(t0 + t).toISOString(), status === 'skipped' ? 0 : secs * 1000);
    t += r.durationMs;
    return r;
  });
  const boot = opts.bootMs ?? [90_000, 95_000];
  return {
    scenario: opts.scenario ?? 'etcd-discovery',
    file: 'scenarios/etcd-discovery/scenario.yaml',
    status: opts.error ? 'error' : opts.failAt !== undefined ? 'failed' : 'passed',
    error: opts.error,
    startedAt,
    durationMs: t,
    accel: 'tcg',
    phases: { image: 100, boot: 95_000 },
    nodes: boot.map((ms, i) => ({ name: `node0${i}`, address: `192.168.0.1${i}`, agent: 'cloud-init' as const, guestSshPort: 22, bootStartedAt: new Date(t0 + 5000).toISOString(), bootMs: ms, maxRssMb: 700, console: `consoles/node0${i}.log` })),
    steps: results,
  };
}
