import test from 'ava';
import { flaky, shard } from '../lab/scenario/selection.js';
import { LabError } from '../lab/util/errors.js';

const plans = ['scenarios/c', 'scenarios/a', 'scenarios/d', 'scenarios/b', 'scenarios/e'].map((file) => ({ file }));

test('shards 1/2 and 2/2 together run each scenario exactly once', (t) => {
  const one = shard(plans, '1/2').map((p) => p.file);
  const two = shard(plans, '2/2').map((p) => p.file);
  t.deepEqual(one, ['scenarios/a', 'scenarios/c', 'scenarios/e']);
  t.deepEqual(two, ['scenarios/b', 'scenarios/d']);
  t.deepEqual([...one, ...two].sort(), plans.map((p) => p.file).sort());
  t.deepEqual(shard(plans, '1/1').length, 5);
});

test('a bad shard spec says how to write one', (t) => {
  for (const spec of ['0/2', '3/2', 'x', '1/0']) t.throws(() => shard(plans, spec), { instanceOf: LabError, message: /is not I\/N/ });
});

test('a scenario is flaky when its runs disagree', (t) => {
  t.deepEqual(flaky([{ scenario: 'a', status: 'passed' }, { scenario: 'a', status: 'failed' }, { scenario: 'b', status: 'passed' }, { scenario: 'b', status: 'passed' }]), ['a']);
});
