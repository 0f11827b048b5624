import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { GREP, JournalWatch, journalTrouble, watchReadCommand, watchStartCommand } from '../lab/cluster/journal.js';
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

test('the watcher is a transient unit following the journal from now on into a file it appends to, started once', (t) => {
  const cmd = watchStartCommand();
  t.regex(cmd, /^sudo -n sh -c ': > \/run\/corelab-trouble\.log' && \{ systemctl is-active -q corelab-journal-watch\.service \|\| sudo -n systemd-run /);
  t.regex(cmd, /journalctl -q -f -n 0 -o short-monotonic \| grep --line-buffered -E -B3 -A8 "[^"]+" >> \/run\/corelab-trouble\.log'; \}$/);
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

/** A lab's run() for JournalWatch: each node answers from a script of results, and the commands are recorded. */
function fakeRun(answers: Record<string, Array<Partial<CommandResult>>>) {
  const sent: Array<[string, string]> = [];
  const run = async (node: string, command: string): Promise<CommandResult> => {
    sent.push([node, command]);
    const a = answers[node]?.shift() ?? {};
    return { node, command, stdout: '', stderr: '', exitCode: 0, durationMs: 1, ...a };
  };
  return { run, sent };
}

test('each read asks for the bytes after the last one read, and finds trouble in them', async (t) => {
  const { run, sent } = fakeRun({ a: [{}, { stdout: `${JOURNAL.length} 1\n${JOURNAL}` }, { stdout: `${JOURNAL.length} 1\n` }] });
  const w = new JournalWatch(run);
  await w.start(['a']);
  t.is(sent[0][1], watchStartCommand());
  const first = await w.read(['a']);
  t.deepEqual(first.map((f) => f.what), ['failed unit', 'kernel oops', 'emergency shell', 'emergency shell', 'kernel panic']);
  t.true(first.every((f) => f.node === 'a'));
  t.is(sent[1][1], watchReadCommand(0));
  t.deepEqual(await w.read(['a']), []);
  t.is(sent[2][1], watchReadCommand(JOURNAL.length), 'the second read starts where the first ended');
});

test('a node whose watcher could not start (no systemd-run) is not read; one that cannot be read is skipped', async (t) => {
  const { run, sent } = fakeRun({ a: [{ exitCode: 1 }], b: [{}, { exitCode: null, error: 'ssh: down' }] });
  const w = new JournalWatch(run);
  await w.start(['a', 'b']);
  t.deepEqual(await w.read(['a', 'b']), []);
  t.deepEqual(sent.map(([n]) => n), ['a', 'b', 'b']);
});

test('a watcher found stopped is started again, and what it kept is still read', async (t) => {
  const { run, sent } = fakeRun({ a: [{}, { stdout: `${JOURNAL.length} 0\n${JOURNAL}` }, {}, { stdout: '0 1\n' }] });
  const w = new JournalWatch(run);
  await w.start(['a']);
  t.is((await w.read(['a'])).length, 5);
  t.is(sent[2][1], watchStartCommand(), 'started again');
  await w.read(['a']);
  t.is(sent[3][1], watchReadCommand(0), 'read from the start of the emptied file');
});

test('a watcher begun without waiting: the next read of that node waits for its start, then reads from 0', async (t) => {
  let answer!: (r: CommandResult) => void;
  const sent: string[] = [];
  const run = (node: string, command: string): Promise<CommandResult> => {
    sent.push(command);
    if (command === watchStartCommand()) return new Promise((r) => (answer = r));
    return Promise.resolve({ node, command, stdout: `${JOURNAL.length} 1\n${JOURNAL}`, stderr: '', exitCode: 0, durationMs: 1 });
  };
  const w = new JournalWatch(run);
  w.begin(['a']);
  t.deepEqual(sent, [watchStartCommand()], 'the start is sent at once');
  const reading = w.read(['a']);
  await new Promise((r) => setTimeout(r, 20));
  t.is(sent.length, 1, 'the read waits for the start to answer');
  answer({ node: 'a', command: watchStartCommand(), stdout: '', stderr: '', exitCode: 0, durationMs: 1 });
  t.is((await reading).length, 5, 'then reads the watcher from its start');
  t.is(sent[1], watchReadCommand(0));
});

test('started() waits for every watcher begun (the lab awaits it before the first step)', async (t) => {
  const answers: Array<(r: CommandResult) => void> = [];
  const run = (node: string, command: string): Promise<CommandResult> => new Promise((r) => answers.push(r));
  const w = new JournalWatch(run);
  w.begin(['a', 'b']);
  let done = false;
  const waiting = w.started().then(() => (done = true));
  answers[0]({ node: 'a', command: watchStartCommand(), stdout: '', stderr: '', exitCode: 0, durationMs: 1 });
  await new Promise((r) => setTimeout(r, 20));
  t.false(done, 'one watcher still starting');
  answers[1]({ node: 'b', command: watchStartCommand(), stdout: '', stderr: '', exitCode: 1, durationMs: 1 });
  await waiting;
  t.true(done, 'a failed start counts as answered');
});
