import test from 'ava';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOT_FATAL, ConsoleWatch, INIT_STARTED, findTrouble } from '../lab/machine/console.js';

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

test('Ignition failing in labos\'s initramfs is a finding that ends a boot; a failed unit is not', (t) => {
  const text = [
    'labos: ignition: CRITICAL : Ignition failed: failed to create files: invalid path "../x"',
    '[    9.0] ignition[355]: CRITICAL : Ignition failed: config is not valid',
    '[FAILED] Failed to start ignition-files.service - Ignition (files).',
    '',
  ].join('\n');
  const found = findTrouble(text);
  t.deepEqual(found.map((f) => f.what), ['Ignition failure', 'Ignition failure', 'failed unit']);
  t.deepEqual(found.map((f) => BOOT_FATAL.has(f.what)), [true, true, false]);
  t.true(BOOT_FATAL.has('kernel panic') && BOOT_FATAL.has('emergency shell'));
  t.deepEqual(findTrouble('[  OK  ] Finished ignition-files.service - Ignition (files).\nignition[9]: files passed\n'), []);
});

test('a watch can start where a boot starts, so an earlier boot\'s trouble is not reported again', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'console.log');
  writeFileSync(f, 'Entering emergency mode. Exit the shell to continue.\n');
  const size = Buffer.byteLength('Entering emergency mode. Exit the shell to continue.\n');
  const w = new ConsoleWatch('n', f, size);
  t.deepEqual(w.scan(), []);
  appendFileSync(f, '[  OK  ] Reached target multi-user.target\nKernel panic - not syncing: Attempted to kill init!\n');
  t.deepEqual(w.scan().map((x) => x.what), ['kernel panic']);
  t.deepEqual(new ConsoleWatch('n', f).scan().map((x) => x.what), ['emergency shell', 'kernel panic']);
});

test('init starting is seen on the console (the point past which a boot gets no reset), in the kernel\'s log or systemd\'s banner', (t) => {
  const init = (text: string) => findTrouble(text, undefined, INIT_STARTED).length > 0;
  t.false(init('[    1.483525] Run /init as init process\n[    2.518651] EXT4-fs (vda2): recovery complete\n'));
  t.false(init('[    2.027232] clocksource: Switched to clocksource hpet\n'));
  t.true(init('[    2.825205] systemd[1]: Inserted module \'autofs4\'\n'));
  t.true(init('\nWelcome to Debian GNU/Linux 12 (bookworm)!\n'));
  t.false(init('[   12.0] cloud-init-stage[211]: Welcome to nothing\n'), 'only at the start of a line');
  t.false(init('[    2.9] systemd[1]: Inserted module'), 'an unfinished line waits for its end');
});

test('a finding carries its line as written (colour codes and carriage returns gone) and the 3 lines before it and 7 after', (t) => {
  const before = ['b1', 'b2', 'b3', 'b4'];
  const after = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'];
  const [f] = findTrouble([...before, '[    2.0] Kernel panic - not syncing: Attempted to kill init!', ...after, ''].join('\n'));
  t.is(f.what, 'kernel panic');
  t.is(f.line, '[    2.0] Kernel panic - not syncing: Attempted to kill init!');
  t.is(f.excerpt, ['b2', 'b3', 'b4', f.line, 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].join('\n'));
  t.is(findTrouble('  Kernel panic - not syncing: y  \n')[0].line, 'Kernel panic - not syncing: y', 'the line is trimmed');
  t.is(findTrouble('Kernel panic - not syncing: x\nnext\n')[0].excerpt, 'Kernel panic - not syncing: x\nnext', 'at the start, the excerpt starts with the line');
  t.deepEqual(findTrouble('\nWelcome to Debian GNU/Linux 12 (bookworm)!\n', undefined, INIT_STARTED).map((x) => x.what), ['init started']);
});

test('a watch started past the start of a file reads a line split across two scans whole; a first line is read as it is; CRLF lines too', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'console.log');
  writeFileSync(f, 'an earlier boot\r\n');
  const w = new ConsoleWatch('n', f, 17);
  appendFileSync(f, '[FAILED] Failed to start etcd2.service\r\n[FAILED] Failed to st');
  t.deepEqual(w.scan().map((x) => x.line), ['[FAILED] Failed to start etcd2.service']);
  appendFileSync(f, 'art docker.service\r\n');
  t.deepEqual(w.scan().map((x) => x.line), ['[FAILED] Failed to start docker.service']);
  t.deepEqual(new ConsoleWatch('n', join(dir, 'none.log')).scan(), [], 'a console not written yet has nothing');
});
