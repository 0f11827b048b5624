import test from 'ava';
import { journalCommand, journalTrouble, readJournals } from '../lab/cluster/journal.js';
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

test('the journal command starts a cursor the first time (prints nothing) and reads from it after', (t) => {
  const cmd = journalCommand();
  t.regex(cmd, /^if ! sudo -n test -s \/run\/corelab-journal\.cursor; then sudo -n journalctl -q -n 1 --cursor-file=\/run\/corelab-journal\.cursor >\/dev\/null 2>&1; true; exit 0; fi;/);
  t.regex(cmd, /journalctl -q -o short-monotonic --no-pager --cursor-file=\/run\/corelab-journal\.cursor/);
});

test('every running node is read at once; one that cannot be read is skipped', async (t) => {
  const seen: string[] = [];
  const run = async (node: string, command: string): Promise<CommandResult> => {
    seen.push(node);
    return { node, command, stdout: node === 'a' ? JOURNAL : '', stderr: '', exitCode: node === 'c' ? null : 0, durationMs: 1, error: node === 'c' ? 'ssh: down' : undefined };
  };
  const found = await readJournals(['a', 'b', 'c'], run);
  t.deepEqual(seen.sort(), ['a', 'b', 'c']);
  t.true(found.length > 0 && found.every((f) => f.node === 'a'));
});
