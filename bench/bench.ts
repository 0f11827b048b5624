// npm run bench: the boot of labos nodes before and after issue 13, in one run on this machine.
// Each tree (the starting commit, checked out in a temp worktree, and this one) runs the
// etcd-discovery scenario cold BENCH_RUNS times (default 3) and swarm-drain-replicate cold once,
// through its own CLI with its own checkpoint store and state dir, and the figures come from the
// report.json each run writes: per node boot-to-SSH (median over the runs), the time until all
// three answer, and the whole run. Under TCG on 2 cores the figures are noisy: other CPU load moves them.
// BENCH_BEFORE=DIR uses a tree already checked out; BENCH_BEFORE_REPORTS=DIR reuses reports
// measured before (DIR/etcd-1/report.json ...), so "before" need not be measured again.
// BENCH_ONLY=after skips "before".
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

const BEFORE_REF = 'f5384a8';
const runs = Number(process.env.BENCH_RUNS ?? 3);
const here = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'corelab-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

interface Report { status: string; durationMs: number; nodes: Array<{ name: string; bootMs?: number }> }
interface Figures { etcd: Report[]; swarm: Report[] }

async function beforeTree(): Promise<string> {
  if (process.env.BENCH_BEFORE) return resolve(process.env.BENCH_BEFORE);
  const dir = join(scratch, 'before');
  await execa('git', ['-C', here, 'worktree', 'add', '--detach', dir, BEFORE_REF], { stdio: 'inherit' });
  process.on('exit', () => void execa('git', ['-C', here, 'worktree', 'remove', '--force', dir]).catch(() => undefined));
  await execa('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  return dir;
}

/** One cold run of a scenario by the tree's own CLI; its report.json. */
async function coldRun(tree: string, scenario: string, out: string): Promise<Report> {
  const env = { CORELAB_CHECKPOINTS: join(scratch, 'checkpoints'), CORELAB_STATE: join(scratch, 'state') };
  process.stdout.write(`  ${tree === here ? 'after' : 'before'}: ${scenario} --cold ... `);
  await execa('node', [join(tree, 'bin', 'corelab.js'), 'run', join(tree, 'scenarios', scenario), '--cold', '--report', out], { cwd: tree, env, reject: false });
  const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).scenarios[0] as Report;
  process.stdout.write(`${r.status} in ${(r.durationMs / 1000).toFixed(1)} s\n`);
  return r;
}

async function measure(tree: string, label: string): Promise<Figures> {
  const saved = label === 'before' ? process.env.BENCH_BEFORE_REPORTS : undefined;
  const read = (name: string) => JSON.parse(readFileSync(join(saved!, name, 'report.json'), 'utf8')).scenarios[0] as Report;
  if (saved && existsSync(join(saved, 'etcd-1'))) {
    const etcd = [...Array(runs).keys()].map((i) => `etcd-${i + 1}`).filter((n) => existsSync(join(saved, n))).map(read);
    return { etcd, swarm: existsSync(join(saved, 'swarm-1')) ? [read('swarm-1')] : [] };
  }
  const out = join(scratch, label);
  const etcd: Report[] = [];
  for (let i = 1; i <= runs; i++) etcd.push(await coldRun(tree, 'etcd-discovery', join(out, `etcd-${i}`)));
  const swarm = [await coldRun(tree, 'swarm-drain-replicate', join(out, 'swarm-1'))];
  return { etcd, swarm };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const sec = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');

function rows(f: Figures): Array<[string, number]> {
  const names = f.etcd[0]?.nodes.map((n) => n.name) ?? [];
  const boot = (r: Report, name: string) => r.nodes.find((n) => n.name === name)?.bootMs ?? NaN;
  return [
    ...names.map((name): [string, number] => [`etcd-discovery boot to SSH: ${name} (median)`, median(f.etcd.map((r) => boot(r, name)))]),
    ['etcd-discovery: all three answer SSH (median)', median(f.etcd.map((r) => Math.max(...r.nodes.map((n) => n.bootMs ?? NaN))))],
    ['etcd-discovery whole cold run (median)', median(f.etcd.map((r) => r.durationMs))],
    ['swarm-drain-replicate whole cold run', median(f.swarm.map((r) => r.durationMs))],
  ];
}

const after = await measure(here, 'after');
const before = process.env.BENCH_ONLY === 'after' ? undefined : await measure(await beforeTree(), 'before');
const a = rows(after);
const b = before ? rows(before) : undefined;
const width = Math.max(...a.map(([k]) => k.length));
process.stdout.write(`\n${'figure'.padEnd(width)}  ${'before'.padStart(9)}  ${'after'.padStart(9)}  ratio\n`);
a.forEach(([k, v], i) => {
  const was = b?.[i]?.[1] ?? NaN;
  process.stdout.write(`${k.padEnd(width)}  ${sec(was).padStart(9)}  ${sec(v).padStart(9)}  ${Number.isFinite(was / v) ? `${(was / v).toFixed(2)}x` : 'n/a'}\n`);
});
const statuses = [...after.etcd, ...after.swarm, ...(before ? [...before.etcd, ...before.swarm] : [])].map((r) => r.status);
process.stdout.write(`\nruns: ${statuses.join(', ')}; before = ${BEFORE_REF}, after = this tree; targets: all three SSH <= 45 s, etcd <= 75 s, swarm <= 240 s\n`);
process.exitCode = statuses.every((s) => s === 'passed') ? 0 : 1;
