import test from 'ava';
import { Partitions } from '../lab/cluster/partitions.js';
import type { CommandResult } from '../lab/machine/ssh.js';

function fakeLab(exitCode = 0) {
  const ran: Array<[string, string]> = [];
  const addresses: Record<string, string> = { a: '192.168.0.10', b: '192.168.0.11', c: '192.168.0.12' };
  const up = new Set(['a', 'b', 'c']);
  const host = {
    run: async (node: string, command: string): Promise<CommandResult> => {
      ran.push([node, command]);
      return { node, command, stdout: '', stderr: exitCode ? 'iptables: no' : '', exitCode, durationMs: 1 };
    },
    address: (n: string) => addresses[n],
    running: (n: string) => up.has(n),
  };
  return { host, ran, up };
}

test('a partition drops traffic both ways between the groups only, and heal removes only its rules', async (t) => {
  const { host, ran, up } = fakeLab();
  const p = new Partitions(host);
  t.is(await p.partition([['a'], ['b', 'c']]), 'partitioned: [a] | [b, c]');
  t.deepEqual(ran.map(([n]) => n), ['a', 'b', 'c']);
  t.is(ran[0][1], [
    'sudo iptables -I INPUT -s 192.168.0.11 -j DROP -m comment --comment corelab-partition',
    'sudo iptables -I OUTPUT -d 192.168.0.11 -j DROP -m comment --comment corelab-partition',
    'sudo iptables -I INPUT -s 192.168.0.12 -j DROP -m comment --comment corelab-partition',
    'sudo iptables -I OUTPUT -d 192.168.0.12 -j DROP -m comment --comment corelab-partition',
  ].join(' && '));
  t.notRegex(ran[1][1], /192\.168\.0\.12/, 'b keeps talking to c, in its own group');
  up.delete('c');
  ran.length = 0;
  t.is(await p.heal(), 'partition healed on a, b');
  t.deepEqual(ran.map(([n]) => n), ['a', 'b'], 'a powered-off node is left alone');
  t.regex(ran[0][1], /grep -v -- "--comment corelab-partition" \| iptables-restore/);
  t.is(await p.heal(), 'no partition to heal');
});

test('a node that refuses the rules fails the step with what it said', async (t) => {
  const { host } = fakeLab(1);
  await t.throwsAsync(new Partitions(host).partition([['a'], ['b']]), { message: 'could not partition a: iptables: no' });
});
