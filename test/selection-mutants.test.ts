// --shard I/N and the flake count of --repeat, beyond the examples in selection.test.ts: every
// shard count over several scenarios, the specs that are refused, and repeat results that disagree.
import test from 'ava';
import { flaky, shard } from '../lab/scenario/selection.js';
import { LabError } from '../lab/util/errors.js';

const files = ['scenarios/swarm', 'scenarios/etcd/flatcar.yaml', 'scenarios/fleet', 'scenarios/etcd', 'scenarios/b', 'scenarios/a', 'scenarios/zz'];
const plans = files.map((file) => ({ file, extra: file.length }));
const sorted = [...files].sort((a, b) => a.localeCompare(b));

test('for every N from 1 to 9, shards 1..N together run each scenario exactly once, sorted by path, every N-th from the I-th', (t) => {
  for (let n = 1; n <= 9; n++) {
    const shards = Array.from({ length: n }, (_, i) => shard(plans, `${i + 1}/${n}`).map((p) => p.file));
    t.deepEqual(shards.flat().sort(), [...files].sort(), `N=${n}: the union is every scenario`);
    t.is(shards.flat().length, files.length, `N=${n}: no scenario twice`);
    shards.forEach((s, i) => t.deepEqual(s, sorted.filter((_, k) => k % n === i), `N=${n}: shard ${i + 1}`));
  }
});

test('a shard keeps the items as they were given, and leaves the caller\'s list alone', (t) => {
  const before = plans.map((p) => p.file);
  const one = shard(plans, '1/1');
  t.deepEqual(one.map((p) => p.file), sorted);
  t.is(one.find((p) => p.file === 'scenarios/a'), plans.find((p) => p.file === 'scenarios/a'), 'the same objects');
  t.deepEqual(plans.map((p) => p.file), before, 'the input is not re-ordered');
  t.deepEqual(shard(plans, '2/3').map((p) => p.file), [sorted[1], sorted[4]]);
  t.deepEqual(shard(plans, '3/3').map((p) => p.file), [sorted[2], sorted[5]]);
  t.deepEqual(shard(plans, '7/7').map((p) => p.file), [sorted[6]]);
  t.deepEqual(shard([], '1/2'), []);
  t.deepEqual(shard(plans, '9/9'), [], 'more shards than scenarios: the last ones are empty');
});

test('I > N, I or N of 0, and specs that are not I/N are refused, saying how to write one', (t) => {
  for (const spec of ['3/2', '8/7', '0/2', '0/0', '1/0', '2/0', '-1/2', '1/-2', '', '1', '/2', '1/', '1/2/3', ' 1/2', '1/2 ', 'a/b', '1.5/2', '1/2x', 'x1/2']) {
    const err = t.throws(() => shard(plans, spec), { instanceOf: LabError }, `"${spec}" is refused`);
    t.is(err?.message, `--shard ${spec} is not I/N with 1 <= I <= N`);
    t.is((err as LabError).fix, 'e.g. --shard 1/2 on one CI machine and --shard 2/2 on the other');
  }
  t.notThrows(() => shard(plans, '2/2'));
  t.notThrows(() => shard(plans, '1/1'));
  t.notThrows(() => shard(plans, '10/12'));
});

test('flaky: a scenario whose repeats both passed and did not pass, in the order first seen', (t) => {
  const runs = [
    { scenario: 'steady-pass', status: 'passed' },
    { scenario: 'late-fail', status: 'passed' },
    { scenario: 'steady-fail', status: 'failed' },
    { scenario: 'early-fail', status: 'error' },
    { scenario: 'steady-pass', status: 'passed' },
    { scenario: 'late-fail', status: 'passed' },
    { scenario: 'steady-fail', status: 'error' },
    { scenario: 'early-fail', status: 'passed' },
    { scenario: 'skips', status: 'skipped' },
    { scenario: 'skips', status: 'skipped' },
    { scenario: 'late-fail', status: 'failed' },
    { scenario: 'steady-fail', status: 'failed' },
  ];
  t.deepEqual(flaky(runs), ['late-fail', 'early-fail'], 'failed, error and skipped all count as not passing; only a mix with passed is flaky');
  t.deepEqual(flaky([]), []);
  t.deepEqual(flaky([{ scenario: 'once', status: 'passed' }]), []);
  t.deepEqual(flaky([{ scenario: 'once', status: 'failed' }]), []);
  t.deepEqual(flaky([{ scenario: 'x', status: 'failed' }, { scenario: 'x', status: 'passed' }]), ['x']);
  t.deepEqual(flaky([{ scenario: 'x', status: 'PASSED' }, { scenario: 'x', status: 'failed' }]), [], 'the status is compared exactly');
});
