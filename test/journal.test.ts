import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync, rmSync, symlinkSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLOCK_COMMAND, GREP, JournalWatch, journalTrouble, parseClock, watchReadCommand, watchStartCommand } from '../lab/cluster/journal.js';
import type { CommandResult } from '../lab/machine/ssh.js';

// What journalctl -o short-monotonic prints (systemd 252), with the troubles kola looks for.
const JOURNAL = `[   41.112233] node00 systemd[1]: Starting etcd2.service - etcd2...
[   41.998877] node00 etcd[812]: member 8e9e05c52164694d is healthy
[   52.000001] node00 systemd[1]: etcd2.service: Main process exited, code=exited, status=1/FAILURE
[   52.000101] node00 systemd[1]: etcd2.service: Failed with result 'exit-code'.
[   52.000202] node00 systemd[1]: Failed to start etcd2.service - etcd2.
[   60.1] node00 kernel: BUG: unable to handle page fault for address: ffff
[   61.2] node00 systemd[1]: Started emergency.service - Emergency Shell.
[   61.3] node00 sh[1]: You are in emergency mode. After logging in, type "journalctl -xb"
[   70.0] node00 kernel: Kernel panic - not syncing: VFS: Unable to mount root fs
`;

test('journal lines of failed units, oopses, the emergency shell and panics are found, with context', (t) => {
  const found = journalTrouble(JOURNAL);
  t.deepEqual(found.map((f) => f.what), ['failed unit', 'kernel oops', 'emergency shell', 'emergency shell', 'kernel panic']);
  t.regex(found[0].line, /Failed to start etcd2\.service/);
  t.regex(found[0].excerpt, /Main process exited/, 'the lines before it come along');
});

test('ordinary journal lines are not trouble', (t) => {
  t.deepEqual(journalTrouble('[1.0] n systemd[1]: Started sshd.service.\n[2.0] n dockerd[9]: level=warning msg="failed to start something optional"\n[3.0] n kernel: BUG_ON is a word here\n'), []);
});

test("grep's -B3 -A8 group separators are not journal lines", (t) => {
  const found = journalTrouble('[1.0] n a\n[2.0] n systemd[1]: Failed to start x.service - X.\n[3.0] n b\n--\n[9.0] n c\n');
  t.is(found.length, 1);
  t.false(found[0].excerpt.includes('--'));
});

test('the watcher\'s grep -E, run by a real grep, keeps exactly the lines journalTrouble finds', async (t) => {
  const ordinary = '[1.0] n systemd[1]: Started sshd.service.\n[2.0] n dockerd[9]: level=warning msg="failed to start something optional"\n[3.0] n kernel: BUG_ON is a word here\n';
  const r = await execa('grep', ['-E', GREP], { input: JOURNAL + ordinary, reject: false });
  const kept = r.stdout.split('\n');
  t.deepEqual(kept, JOURNAL.split('\n').filter((l) => journalTrouble(l).length > 0));
  t.is(kept.length, 5);
});

test('the watcher is a transient unit following the journal from the clock read into a file it appends to, started once', (t) => {
  const cmd = watchStartCommand('@1796541628.911610528');
  t.regex(cmd, /^if systemctl is-active -q corelab-journal-watch\.service; then sudo -n sh -c ': > \/run\/corelab-trouble\.log'; else sudo -n systemd-run -q --collect --unit=corelab-journal-watch\.service sh -c '/);
  t.regex(cmd, /sh -c ': > \/run\/corelab-trouble\.log; journalctl -q -f --since=@1796541628\.911610528 -n all -o short-monotonic \| grep --line-buffered -E -B3 -A8 "[^"]+" >> \/run\/corelab-trouble\.log'; fi$/);
  t.is(cmd.match(/sudo/g)?.length, 2, 'one sudo on either branch');
  t.regex(watchStartCommand(), /journalctl -q -f -n 0 -o short-monotonic \|/, 'without a clock: from when journalctl starts');
});

test("the watcher's own start, as sudo and systemd log it in the journal it reads from before it started, is not trouble", async (t) => {
  const cmd = watchStartCommand(CLOCK);
  const inner = cmd.slice(cmd.indexOf("sh -c ': > ") + 7, -"'; fi".length);
  const lines = [
    `[   23.602860] solo sudo[275]:     core : PWD=/home/core ; USER=root ; COMMAND=/usr/bin/systemd-run -q --collect --unit=corelab-journal-watch.service sh -c '${inner}'`,
    `[   23.950385] solo systemd[1]: Started corelab-journal-watch.service - /usr/bin/sh -c ${inner}.`,
    `[   23.950385] solo sudo[275]:     core : PWD=/home/core ; USER=root ; COMMAND=/usr/bin/sh -c : > /run/corelab-trouble.log`,
  ];
  t.deepEqual(journalTrouble(lines.join('\n')), []);
  const r = await execa('grep', ['-E', GREP], { input: lines.join('\n'), reject: false });
  t.is(r.exitCode, 1, `grep keeps none of them: ${r.stdout}`);
});

test('the clock is what date prints for journalctl --since; anything else is no clock', async (t) => {
  const printed = (await execa('sh', ['-c', CLOCK_COMMAND])).stdout;
  t.regex(printed, /^@\d{10}\.\d{9}$/);
  t.is(parseClock(`${printed}\n`), printed);
  t.is(parseClock('@1796541628.%N'), undefined, 'a date without %N');
  t.is(parseClock('@1796541628'), undefined);
  t.is(parseClock('x@1.5'), undefined);
  t.is(parseClock('@1.5 x'), undefined);
  t.is(parseClock(''), undefined);
});

test('the start command, run by a real shell: starts the unit with the file emptied first, or empties the file of one that runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const file = join(dir, 'trouble.log');
  // sudo runs its command; systemd-run runs its unit's command at once; journalctl prints one line, given its arguments.
  writeFileSync(join(bin, 'sudo'), '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n', { mode: 0o755 });
  writeFileSync(join(bin, 'systemd-run'), '#!/bin/sh\necho "systemd-run $*" >> "$LOG"\nwhile [ "${1#-}" != "$1" ]; do shift; done\nexec "$@"\n', { mode: 0o755 });
  writeFileSync(join(bin, 'journalctl'), '#!/bin/sh\necho "[ 1.0] n systemd[1]: Failed to start x.service - journalctl $*"\n', { mode: 0o755 });
  const run = async (active: boolean) => {
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\nexit ${active ? 0 : 1}\n`, { mode: 0o755 });
    writeFileSync(file, 'old\n');
    await execa('sh', ['-c', watchStartCommand('@5.25').replaceAll('/run/corelab-trouble.log', file)], { env: { PATH: `${bin}:${process.env.PATH}`, LOG: join(dir, 'log') } });
    return readFileSync(file, 'utf8');
  };
  t.is(await run(false), '[ 1.0] n systemd[1]: Failed to start x.service - journalctl -q -f --since=@5.25 -n all -o short-monotonic\n', 'emptied, then what journalctl followed');
  t.regex(readFileSync(join(dir, 'log'), 'utf8'), /^systemd-run -q --collect --unit=corelab-journal-watch\.service sh -c /);
  rmSync(join(dir, 'log'));
  t.is(await run(true), '', 'a watcher that runs: its file is emptied, no second one');
  t.false(existsSync(join(dir, 'log')));
});

test('the read command, run by a real shell, prints the size and whether the watcher runs, then the new bytes only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'trouble.log');
  const sh = async (offset: number) => (await execa('sh', ['-c', watchReadCommand(offset).replace('/run/corelab-trouble.log', file)])).stdout;
  t.is(await sh(0), '-1 0', 'no file yet');
  writeFileSync(file, 'one\n');
  t.is(await sh(0), '4 0\none');
  t.is(await sh(4), '4 0', 'nothing new');
  appendFileSync(file, 'two\nthree\n');
  t.is(await sh(4), '14 0\ntwo\nthree');
  writeFileSync(file, 'x\n');
  t.is(await sh(14), '2 0\nx', 'a file emptied since (a restore) is read from its start');
});

test("the read command tells the watcher runs by systemd's invocation link for its unit, with no systemctl", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const units = join(dir, 'units');
  mkdirSync(units);
  writeFileSync(join(dir, 'trouble.log'), 'one\n');
  const cmd = watchReadCommand(4).replace('/run/corelab-trouble.log', join(dir, 'trouble.log')).replaceAll('/run/systemd/units', units);
  t.notRegex(cmd.slice(cmd.indexOf('then'), cmd.indexOf('else')), /systemctl/);
  t.is((await execa('sh', ['-c', cmd])).stdout, '4 0', 'no link: the unit is not active');
  symlinkSync('0123456789abcdef', join(units, 'invocation:corelab-journal-watch.service'));
  t.is((await execa('sh', ['-c', cmd])).stdout, '4 1');
});

/**
 * A lab's run() for JournalWatch: the clock command answers `clock` (exit 1 for null), every other
 * command answers from the node's script of results; the commands are recorded.
 */
function fakeRun(answers: Record<string, Array<Partial<CommandResult>>>, clock: string | null = CLOCK) {
  const sent: Array<[string, string]> = [];
  const run = async (node: string, command: string): Promise<CommandResult> => {
    sent.push([node, command]);
    const a = command === CLOCK_COMMAND ? (clock ? { stdout: `${clock}\n` } : { exitCode: 1, stdout: '' }) : (answers[node]?.shift() ?? {});
    return { node, command, stdout: '', stderr: '', exitCode: 0, durationMs: 1, ...a };
  };
  return { run, sent };
}

const CLOCK = '@1796541628.911610528';
const ok = (node: string, command: string, stdout = ''): CommandResult => ({ node, command, stdout, stderr: '', exitCode: 0, durationMs: 1 });
const tick = () => new Promise((r) => setTimeout(r, 20));

test('a watcher starts from the clock read first; each read asks for the bytes after the last one read, and finds trouble in them', async (t) => {
  const { run, sent } = fakeRun({ a: [{}, { stdout: `${JOURNAL.length} 1\n${JOURNAL}` }, { stdout: `${JOURNAL.length} 1\n` }] });
  const w = new JournalWatch(run);
  await w.start(['a']);
  const first = await w.read(['a']);
  t.deepEqual(sent.slice(0, 2).map(([, c]) => c), [CLOCK_COMMAND, watchStartCommand(CLOCK)]);
  t.deepEqual(first.map((f) => f.what), ['failed unit', 'kernel oops', 'emergency shell', 'emergency shell', 'kernel panic']);
  t.true(first.every((f) => f.node === 'a'));
  t.is(sent[2][1], watchReadCommand(0));
  t.deepEqual(await w.read(['a']), []);
  t.is(sent[3][1], watchReadCommand(JOURNAL.length), 'the second read starts where the first ended');
});

test('a node whose watcher could not start (no systemd-run) is not read; one that cannot be read is skipped', async (t) => {
  const { run, sent } = fakeRun({ a: [{ exitCode: 1 }], b: [{}, { exitCode: null, error: 'ssh: down' }] });
  const w = new JournalWatch(run);
  await w.start(['a', 'b']);
  t.deepEqual(await w.read(['a', 'b']), []);
  t.deepEqual(sent.filter(([, c]) => c !== CLOCK_COMMAND).map(([n]) => n), ['a', 'b', 'b']);
});

test('a watcher found stopped is started again, and what it kept is still read', async (t) => {
  const { run, sent } = fakeRun({ a: [{}, { stdout: `${JOURNAL.length} 0\n${JOURNAL}` }, {}, { stdout: '0 1\n' }] });
  const w = new JournalWatch(run);
  await w.start(['a']);
  t.is((await w.read(['a'])).length, 5);
  t.deepEqual(sent.slice(3, 5).map(([, c]) => c), [CLOCK_COMMAND, watchStartCommand(CLOCK)], 'started again, from a new clock read');
  await w.read(['a']);
  t.is(sent[5][1], watchReadCommand(0), 'read from the start of the emptied file');
});

test('a watcher begun without waiting: the next read of that node waits for its start, then reads from 0', async (t) => {
  let answer!: (r: CommandResult) => void;
  const sent: string[] = [];
  const run = (node: string, command: string): Promise<CommandResult> => {
    sent.push(command);
    if (command === CLOCK_COMMAND) return Promise.resolve(ok(node, command, CLOCK));
    if (command === watchStartCommand(CLOCK)) return new Promise((r) => (answer = r));
    return Promise.resolve(ok(node, command, `${JOURNAL.length} 1\n${JOURNAL}`));
  };
  const w = new JournalWatch(run);
  w.begin(['a']);
  t.deepEqual(sent, [CLOCK_COMMAND], 'the clock read is sent at once');
  await w.started();
  const reading = w.read(['a']);
  await tick();
  t.deepEqual(sent, [CLOCK_COMMAND, watchStartCommand(CLOCK)], 'the read waits for the start to answer');
  answer(ok('a', watchStartCommand(CLOCK)));
  t.is((await reading).length, 5, 'then reads the watcher from its start');
  t.is(sent[2], watchReadCommand(0));
});

test('started() waits for every clock read, not for the starts (the lab awaits it before the first step)', async (t) => {
  const pending: Array<{ node: string; command: string; answer: (r: CommandResult) => void }> = [];
  const run = (node: string, command: string): Promise<CommandResult> => new Promise((r) => pending.push({ node, command, answer: r }));
  const w = new JournalWatch(run);
  w.begin(['a', 'b']);
  let done = false;
  const waiting = w.started().then(() => (done = true));
  pending[0].answer(ok('a', CLOCK_COMMAND, CLOCK));
  await tick();
  t.false(done, 'b has no clock yet');
  t.deepEqual(pending.map((p) => p.command), [CLOCK_COMMAND, CLOCK_COMMAND, watchStartCommand(CLOCK)]);
  pending[1].answer(ok('b', CLOCK_COMMAND, CLOCK));
  await waiting;
  t.true(done, 'both keep their journal from their clock: the starts may answer later');
  t.is(pending.length, 4);
  let read = false;
  const reading = w.read(['a', 'b']).then(() => (read = true));
  await tick();
  t.false(read, 'a read still waits for both starts');
  pending[2].answer(ok('a', pending[2].command));
  pending[3].answer({ ...ok('b', pending[3].command), exitCode: 1 });
  await tick();
  pending.slice(4).forEach((p) => p.answer(ok(p.node, p.command, '0 1\n')));
  await reading;
  t.deepEqual(pending.slice(4).map((p) => p.node), ['a'], 'b, whose start failed, is not read');
});

test('a guest whose date prints no clock: the watcher follows from its start, and started() waits for that start', async (t) => {
  let answer!: (r: CommandResult) => void;
  const sent: string[] = [];
  const run = (node: string, command: string): Promise<CommandResult> => {
    sent.push(command);
    if (command === CLOCK_COMMAND) return Promise.resolve(ok(node, command, '@1796541628.%N'));
    return new Promise((r) => (answer = r));
  };
  const w = new JournalWatch(run);
  let done = false;
  const starting = w.start(['a']).then(() => (done = true));
  await tick();
  t.deepEqual(sent, [CLOCK_COMMAND, watchStartCommand()], 'journalctl -n 0: from when it starts');
  t.false(done);
  answer(ok('a', sent[1]));
  await starting;
  t.true(done);
});

test('a clock read that fails (exit status, or no answer) also leaves the start to wait for', async (t) => {
  const { run, sent } = fakeRun({ a: [{}] }, null);
  await new JournalWatch(run).start(['a']);
  t.deepEqual(sent.map(([, c]) => c), [CLOCK_COMMAND, watchStartCommand()]);
  const w = new JournalWatch((node, command) => (command === CLOCK_COMMAND ? Promise.reject(new Error('ssh: down')) : Promise.resolve(ok(node, command))));
  await w.start(['a']);
  t.deepEqual(await w.read(['a']), [], 'started without a clock, read');
});
