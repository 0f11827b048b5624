import test from 'ava';
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReportDir } from '../lab/cli/reportdir.js';
import { corelab } from './helpers/lab.js';
import { tempTree } from './helpers/files.js';

test('checkReportDir: a folder, or a path that can be made, passes; a file, or a file on the way, does not', (t) => {
  const tree = tempTree({ 'afile': 'x', 'dir/.keep': '' });
  t.teardown(tree.remove);
  t.notThrows(() => checkReportDir(join(tree.dir, 'dir')));
  t.notThrows(() => checkReportDir(join(tree.dir, 'new', 'deeper')));
  t.throws(() => checkReportDir(join(tree.dir, 'afile')), { message: /--report .*afile is a file, not a folder/ });
  t.throws(() => checkReportDir(join(tree.dir, 'afile', 'sub')), { message: /cannot be made: .*afile is a file, not a folder/ });
  const err = t.throws(() => checkReportDir(join(tree.dir, 'afile')));
  t.regex((err as { fix?: string }).fix ?? '', /give --report a folder/);
});

test('run --report FILE is refused before anything boots: exit 2, a fix line, no lab folder', async (t) => {
  const tree = tempTree({ report: 'I am a file' });
  t.teardown(tree.remove);
  mkdirSync(join(tree.dir, 'state'));
  const before = readdirSync(tmpdir()).filter((d) => d.startsWith('corelab-etcd-discovery-'));
  // PATH=/nonexistent and an empty cache: even if the check were missing, no QEMU could start.
  const r = await corelab(['run', 'scenarios/etcd-discovery', '--report', join(tree.dir, 'report')], { PATH: '/nonexistent', CORELAB_CACHE: join(tree.dir, 'cache'), CORELAB_STATE: join(tree.dir, 'state') });
  t.is(r.exitCode, 2, r.all);
  t.regex(r.stderr, /^corelab: --report .*report is a file, not a folder\n  fix: give --report a folder/m);
  t.notRegex(r.all, /^\s+at /m, 'no stack trace');
  t.notRegex(r.all, /lab folder|needs host tools|image/, 'it stopped before any image or lab work');
  t.deepEqual(readdirSync(tmpdir()).filter((d) => d.startsWith('corelab-etcd-discovery-')), before);
});
