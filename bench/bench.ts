// npm run bench: figures, not assertions, in one run on this machine. Three sections, all by default;
// BENCH_SECTIONS=boot,agents,stability picks some.
// - boot (issue 13): the boot of labos nodes before and after. Each tree (the starting commit,
//   checked out in a temp worktree, and this one) runs etcd-discovery cold BENCH_RUNS times (default
//   3) and swarm-drain-replicate cold once, through its own CLI with its own checkpoint store and
//   state dir; the figures come from each run's report.json: per node boot-to-SSH (median over the
//   runs), the time until all three answer, and the whole run. BENCH_BEFORE=DIR uses a tree already
//   checked out; BENCH_BEFORE_REPORTS=DIR reuses reports measured before (DIR/etcd-1/report.json
//   ...); BENCH_ONLY=after skips "before". "after" starts with no boot template in the cache, so its
//   first etcd run makes one (a row of its own); the other runs start from it.
// - agents (issue 12): a node with an Ignition config and one with a cloud-config, boot to SSH.
// - stability (issue 15): --repeat of the one-node fixture cold and of etcd-discovery restored, with
//   the flake count.
// Under TCG on 2 cores the figures are noisy: other CPU load moves them.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { corelabRun, here, median, printTable, scratch, sec, type Report } from './common.js';
import { agents } from './agents.js';
import { templatesDir } from '../lab/machine/template.js';
import { stability } from './stability.js';

const BEFORE_REF = 'f5384a8';
const runs = Number(process.env.BENCH_RUNS ?? 3);
const sections = (process.env.BENCH_SECTIONS ?? 'boot,agents,stability').split(',').map((s) => s.trim());

interface Figures { etcd: Report[]; swarm: Report[] }

async function beforeTree(): Promise<string> {
  if (process.env.BENCH_BEFORE) return resolve(process.env.BENCH_BEFORE);
  const dir = join(scratch, 'before');
  await execa('git', ['-C', here, 'worktree', 'add', '--detach', dir, BEFORE_REF], { stdio: 'inherit' });
  process.on('exit', () => void execa('git', ['-C', here, 'worktree', 'remove', '--force', dir]).catch(() => undefined));
  await execa('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  return dir;
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
  // The first run of this tree makes its boot templates (lab/machine/template.ts), as a first run
  // anywhere does; the others start from them.
  if (label === 'after') rmSync(templatesDir(), { recursive: true, force: true });
  for (let i = 1; i <= runs; i++) etcd.push(...(await corelabRun(tree, join(tree, 'scenarios', 'etcd-discovery'), join(out, `etcd-${i}`))));
  const swarm = await corelabRun(tree, join(tree, 'scenarios', 'swarm-drain-replicate'), join(out, 'swarm-1'));
  return { etcd, swarm };
}

function rows(f: Figures): Array<[string, number]> {
  const names = f.etcd[0]?.nodes.map((n) => n.name) ?? [];
  const boot = (r: Report, name: string) => r.nodes.find((n) => n.name === name)?.bootMs ?? NaN;
  return [
    ...names.map((name): [string, number] => [`etcd-discovery boot to SSH: ${name} (median)`, median(f.etcd.map((r) => boot(r, name)))]),
    ['etcd-discovery: all three answer SSH (median)', median(f.etcd.map((r) => Math.max(...r.nodes.map((n) => n.bootMs ?? NaN))))],
    ['etcd-discovery whole cold run (median)', median(f.etcd.map((r) => r.durationMs))],
    ['etcd-discovery first run: making its boot template (once per image and size)', f.etcd[0]?.phases?.templates ?? NaN],
    ['etcd-discovery first run, whole (template made in it)', f.etcd[0]?.durationMs ?? NaN],
    ['swarm-drain-replicate whole cold run', median(f.swarm.map((r) => r.durationMs))],
  ];
}

async function bootSection(): Promise<boolean> {
  process.stdout.write(`\n== boot of labos nodes, before (${BEFORE_REF}) and after (this tree)\n`);
  const after = await measure(here, 'after');
  const before = process.env.BENCH_ONLY === 'after' ? undefined : await measure(await beforeTree(), 'before');
  const a = rows(after);
  const b = before ? rows(before) : undefined;
  printTable('cold runs', ['figure', 'before', 'after', 'ratio'], a.map(([k, v], i) => {
    const was = b?.[i]?.[1] ?? NaN;
    return [k, sec(was), sec(v), Number.isFinite(was / v) ? `${(was / v).toFixed(2)}x` : 'n/a'];
  }));
  const statuses = [...after.etcd, ...after.swarm, ...(before ? [...before.etcd, ...before.swarm] : [])].map((r) => r.status);
  process.stdout.write(`runs: ${statuses.join(', ')}; targets: all three SSH <= 45 s, etcd <= 75 s, swarm <= 240 s\n`);
  return statuses.length > 0 && statuses.every((s) => s === 'passed');
}

const results: boolean[] = [];
if (sections.includes('boot')) results.push(await bootSection());
if (sections.includes('agents')) results.push(await agents(runs));
if (sections.includes('stability')) results.push(await stability(Number(process.env.BENCH_REPEAT_COLD ?? 20), Number(process.env.BENCH_REPEAT_RESTORED ?? 5)));
process.exitCode = results.every(Boolean) ? 0 : 1;
