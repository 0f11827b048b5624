// The rule the VM tests' skips follow (test/helpers/inputs.ts): an absent input skips, a broken one
// fails with the lab's message. Checked here on the lab's real artifact resolution, without booting.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, resolveArtifact } from '../lab/images/artifacts.js';
import { LabError } from '../lab/util/errors.js';
import { ifPresent, input, need } from './helpers/inputs.js';
import { tempTree } from './helpers/files.js';

test('an input that resolves to nothing is absent; one that throws is broken, with the formatted lab message', async (t) => {
  t.deepEqual(await input('why', () => undefined), { state: 'absent', why: 'why' });
  t.deepEqual(await input('why', async () => 'x'), { state: 'present', value: 'x' });
  const broken = await input('why', () => { throw new LabError('it is bad', { fix: 'mend it' }); });
  t.deepEqual(broken, { state: 'broken', message: 'it is bad\n  fix: mend it' });
  t.throws(() => need(broken), { message: 'it is bad\n  fix: mend it' });
  t.is(need({ state: 'present', value: 3 }), 3);
});

test('a test is skipped only when an input is absent and none is broken', (t) => {
  const present = { state: 'present', value: 1 } as const;
  const absent = { state: 'absent', why: 'not here' } as const;
  const broken = { state: 'broken', message: 'bad' } as const;
  t.is(ifPresent(test.serial, 'x', present), test.serial);
  t.is(ifPresent(test.serial, 'x', present, absent), test.serial.skip);
  t.is(ifPresent(test.serial, 'x', absent, broken), test.serial, 'a broken input runs the test, which fails at need()');
  t.is(ifPresent(test, 'x', absent), test.skip);
});

test('the fleet artifact: absent skips; a CORELAB_ARTIFACTS folder that does not exist, or a cached copy failing its digest, is broken', async (t) => {
  const cache = tempTree({});
  t.teardown(cache.remove);
  const before = process.env.CORELAB_CACHE;
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => (before === undefined ? delete process.env.CORELAB_CACHE : (process.env.CORELAB_CACHE = before)));
  t.is((await input('none', () => resolveArtifact('fleet', undefined))).state, 'absent');
  const typo = await input('none', () => resolveArtifact('fleet', join(cache.dir, 'no-such-dir')));
  t.is(typo.state, 'broken');
  t.regex((typo as { message: string }).message, /the artifacts folder \S+no-such-dir does not exist\n {2}fix: /);
  const dir = join(cache.dir, 'artifacts', `fleet-${ARTIFACTS.fleet.version}`);
  mkdirSync(dir, { recursive: true });
  for (const b of ARTIFACTS.fleet.binaries) writeFileSync(join(dir, b), 'a binary');
  writeFileSync(join(dir, 'record.json'), JSON.stringify({ binaries: 'not the digest', from: 'x' }));
  const damaged = await input('none', () => resolveArtifact('fleet', undefined));
  t.is(damaged.state, 'broken');
  t.regex((damaged as { message: string }).message, /does not match the digest recorded when it was added\n {2}fix: remove /);
});
