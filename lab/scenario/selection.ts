import { LabError } from '../util/errors.js';

/**
 * The scenarios shard I of N runs ("2/3"): sorted by path, every N-th from the I-th, so the N
 * shards of a CI matrix together run each scenario exactly once.
 */
export function shard<T extends { file: string }>(items: T[], spec: string): T[] {
  const m = spec.match(/^(\d+)\/(\d+)$/);
  const [i, n] = [Number(m?.[1]), Number(m?.[2])]; // NaN when the spec is not I/N: the check below fails
  if (!(i >= 1 && i <= n)) throw new LabError(`--shard ${spec} is not I/N with 1 <= I <= N`, { fix: 'e.g. --shard 1/2 on one CI machine and --shard 2/2 on the other' });
  return [...items].sort((a, b) => a.file.localeCompare(b.file)).filter((_, k) => k % n === i - 1);
}

/** Scenarios that both passed and did not pass across repeated runs. */
export function flaky(results: Array<{ scenario: string; status: string }>): string[] {
  const by = new Map<string, Set<boolean>>();
  for (const r of results) by.set(r.scenario, (by.get(r.scenario) ?? new Set()).add(r.status === 'passed'));
  return [...by].filter(([, s]) => s.size > 1).map(([name]) => name);
}
