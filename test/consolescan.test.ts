import test from 'ava';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleWatch, findTrouble } from '../lab/machine/console.js';

test('panics, oopses, emergency shells and failed units are found, colour codes and all', (t) => {
  const text = [
    '[    1.0] Run /init as init process',
    '[    2.0] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
    '[    3.0] BUG: kernel NULL pointer dereference, address: 0000000000000008',
    'You are in emergency mode. After logging in, type "journalctl -xb" to view',
    '[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39metcd2.service\x1b[0m - etcd2.',
    '[  OK  ] Started ssh.service',
    '',
  ].join('\n').replace(/\x1b\[[0-9;]*m/g, '');
  t.deepEqual(findTrouble(text).map((f) => f.what), ['kernel panic', 'kernel oops', 'emergency shell', 'failed unit']);
  t.deepEqual(findTrouble('[  OK  ] Started ssh.service\nnode00 login:\n'), []);
});

test('a watch reports only what is new, across partial lines', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'console.log');
  writeFileSync(f, '[  OK  ] fine\n[\x1b[0;1;31mFAILED\x1b[0m] Failed to st');
  const w = new ConsoleWatch('n', f);
  t.deepEqual(w.scan(), []);
  appendFileSync(f, 'art docker.service\nmore\n');
  const found = w.scan();
  t.is(found.length, 1);
  t.is(found[0].line, '[FAILED] Failed to start docker.service');
  t.deepEqual(w.scan(), []);
});
