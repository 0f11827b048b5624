import test from 'ava';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeReports } from '../lab/report/report.js';
import { buildHistory, readNights, type History } from '../lab/report/history.js';
import { classify } from '../lab/run/attempts.js';
import type { ScenarioResult } from '../lab/run/results.js';
import { which } from '../lab/host/tools.js';
import { tempTree } from './helpers/files.js';
import { scenarioResult } from './helpers/results.js';
import { corelab } from './helpers/lab.js';

const STEPS: Array<[string, number]> = [['cluster forms', 10], ['members agree', 3], ['node01 loses power', 2], ['still healthy', 4]];
const day = (n: number) => `2026-11-${String(20 + n).padStart(2, '0')}T02:00:00.000Z`;

/**
 * Six nights as a CI job archives them, each folder written by writeReports from runner-shaped
 * results: night 3 forms the cluster in 40 s (10 s on the others), night 2's "members agree" fails
 * and passes on a rerun (flaky), and from night 4 on "node01 loses power" fails. Night 6 is two
 * shards, the second running another scenario; night 5 boots node01 slowly.
 */
function nights(): { dir: string; remove: () => void; dirs: string[] } {
  const tree = tempTree({});
  const dirs: string[] = [];
  for (let n = 1; n <= 6; n++) {
    const steps = STEPS.map(([name, s]): [string, number] => [name, name === 'cluster forms' && n === 3 ? 40 : s]);
    const failAt = n >= 4 ? 2 : undefined;
    let r: ScenarioResult = scenarioResult(day(n), steps, { failAt, bootMs: [90_000, n === 5 ? 200_000 : 95_000] });
    if (n === 2) r = classify([{ ...scenarioResult(day(n), steps, { failAt: 1 }), attempt: 1 }, { ...r, attempt: 2 }]);
    const dir = join(tree.dir, `night-${n}`);
    writeReports(n === 6 ? join(dir, 'shard-1') : dir, [r]);
    if (n === 6) writeReports(join(dir, 'shard-2'), [scenarioResult(day(n), [['swarm init', 5]], { scenario: 'swarm', bootMs: [80_000] })]);
    dirs.push(dir);
  }
  return { ...tree, dirs: [dirs[4], ...dirs.slice(0, 4), dirs[5]] }; // out of order on purpose
}

test('history: nights ordered by start, per-step status per night, the slow night flagged, the current failure dated to its first night', (t) => {
  const n = nights();
  t.teardown(n.remove);
  const h: History = buildHistory(readNights(n.dirs));
  t.deepEqual(h.nights.map((x) => x.label), ['night-1', 'night-2', 'night-3', 'night-4', 'night-5', 'night-6']);
  t.is(h.nights[5].reports.length, 2, 'both shards of night 6');
  t.deepEqual(h.scenarios.map((s) => s.scenario), ['etcd-discovery', 'swarm']);
  const etcd = h.scenarios[0];
  t.deepEqual(etcd.status, ['passed', 'flaky', 'passed', 'failed', 'failed', 'failed']);
  const step = (name: string) => etcd.steps.find((s) => s.name === name)!;
  t.deepEqual(step('cluster forms').durationMs, [10_000, 10_000, 40_000, 10_000, 10_000, 10_000]);
  t.is(step('cluster forms').medianMs, 10_000);
  t.deepEqual(step('cluster forms').slow, [2], 'night 3 is flagged');
  t.deepEqual(step('members agree').status, ['passed', 'flaky', 'passed', 'passed', 'passed', 'passed']);
  t.deepEqual(step('node01 loses power').status, ['passed', 'passed', 'passed', 'failed', 'failed', 'failed']);
  t.deepEqual(step('still healthy').status, ['passed', 'passed', 'passed', 'skipped', 'skipped', 'skipped']);
  t.deepEqual(step('still healthy').slow, []);
  t.true(etcd.steps.every((s) => s.name === 'cluster forms' || !s.slow.length), 'no other step is flagged');
  t.deepEqual(etcd.boot.map((b) => [b.node, b.slow]), [['node00', []], ['node01', [4]]]);
  t.deepEqual(h.scenarios[1].status, [null, null, null, null, null, 'passed']);
  t.is(h.currentFailures.length, 1);
  const f = h.currentFailures[0];
  t.like(f, { scenario: 'etcd-discovery', step: 'node01 loses power', since: 3, sinceNight: 'night-4', nights: 3 });
  t.regex(f.output, /^on node00: \$ check 2\nexit status: 1\n- exit status 1, expected 0/);
  t.regex(f.output, /stderr:\nboom/);
});

test('history: a set-up error is a current failure of "lab set-up"; a night folder without report.json is an error with a fix', (t) => {
  const tree = tempTree({ 'empty/x.txt': 'x' });
  t.teardown(tree.remove);
  for (let n = 1; n <= 3; n++) writeReports(join(tree.dir, `n${n}`), [scenarioResult(day(n), STEPS, n >= 2 ? { error: `boot timed out (night ${n})` } : {})]);
  const h = buildHistory(readNights([1, 2, 3].map((n) => join(tree.dir, `n${n}`))));
  t.like(h.currentFailures[0], { step: 'lab set-up', sinceNight: 'n2', nights: 2, output: 'boot timed out (night 2)' });
  const err = t.throws(() => readNights([join(tree.dir, 'empty')]));
  t.regex(err!.message, /no report\.json in this folder or below/);
  t.regex((err as { fix?: string }).fix ?? '', /corelab run --report/);
});

// Debian's chromium, which scripts/setup.sh installs; without it this test is skipped, and says why.
const chromium = which('chromium');
if (!chromium) console.log('# skipping the history.html check: Debian\'s chromium is not installed (scripts/setup.sh installs it)');
(chromium ? test : test.skip)('corelab history writes history.html; headless Chromium shows the flagged slow step and the first failing night', async (t) => {
  const n = nights();
  t.teardown(n.remove);
  const out = join(n.dir, 'out');
  const r = await corelab(['history', ...n.dirs, '--out', out]);
  t.is(r.exitCode, 0, r.all);
  t.regex(r.all, /6 night\(s\), 2 scenario\(s\)/);
  t.regex(r.all, /failing: etcd-discovery: node01 loses power, since night night-4 \(3 night\(s\)\)/);
  t.true(existsSync(join(out, 'history.json')));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(n.dir, 'profile')}`, '--window-size=1400,1000'];
  const page = `file://${join(out, 'history.html')}`;
  const dom = (await execa(chromium!, [...args, '--dump-dom', page], { timeout: 90_000 })).stdout;
  t.regex(dom, /<li class="slow-step" data-scenario="etcd-discovery" data-what="step &quot;cluster forms&quot;" data-night="night-3">etcd-discovery: step "cluster forms" took 40\.0 s on night night-3, 4\.0× its median 10\.0 s<\/li>/);
  t.regex(dom, /<li class="slow-step" [^>]*data-what="boot of node01" data-night="night-5">/);
  const row = dom.match(/<tr class="step" data-name="1\. cluster forms">(.*?)<\/tr>/s)?.[1] ?? '';
  t.is((row.match(/class="cell passed slow"/g) ?? []).length, 1, 'the slow night\'s cell is marked');
  t.is((row.match(/<circle [^>]*class="slow-point"/g) ?? []).length, 1, 'and ringed in the plot');
  t.regex(dom, /<div class="current-failure" data-scenario="etcd-discovery" data-step="node01 loses power" data-since="night-4">/);
  t.regex(dom, /failing since night <span class="since">night-4<\/span> \(2026-11-24T02:00:00\.000Z\), 3 night\(s\)/);
  t.is((dom.match(/class="current-failure"/g) ?? []).length, 1);
  t.is((dom.match(/<td class="cell flaky/g) ?? []).length, 2, 'night 2: the scenario and the step that was rerun');
  const png = join(n.dir, 'history.png');
  await execa(chromium!, [...args, `--screenshot=${png}`, page], { timeout: 90_000 });
  t.true(statSync(png).size > 10_000, 'a screenshot of the page');
  t.is(readFileSync(png).subarray(1, 4).toString(), 'PNG');
  if (process.env.CORELAB_KEEP_SCREENSHOT) copyFileSync(png, process.env.CORELAB_KEEP_SCREENSHOT); // to look at it
});
