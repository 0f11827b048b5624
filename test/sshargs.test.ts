import test from 'ava';
import { execa } from 'execa';
import { nodeStatusLine, sshArgs } from '../lab/cli/interactive.js';
import type { LabState } from '../lab/cluster/state.js';
import { tempTree } from './helpers/files.js';

function lab(keyFile: string): LabState {
  return { name: 'corelab-x-1', scenario: 'x', ownerPid: 2, dir: '/tmp/corelab-x-1', keyFile, ready: true, startedAt: '', nodes: [{ name: 'node00', address: '192.168.0.10', user: 'core', sshPort: 2222, console: '' }] };
}

test('corelab ssh: "--" comes before the destination, so what follows the node is never an ssh option', (t) => {
  const tree = tempTree({ id_ed25519: 'key' });
  t.teardown(tree.remove);
  const args = sshArgs(lab(`${tree.dir}/id_ed25519`), 'node00', ['-oProxyCommand=touch /tmp/pwned', 'uptime']);
  const dest = args.indexOf('core@127.0.0.1');
  t.is(args[dest - 1], '--');
  t.deepEqual(args.slice(dest + 1), ['-oProxyCommand=touch /tmp/pwned', 'uptime']);
  t.is(args.indexOf('--'), dest - 1, 'no other "--" earlier');
});

test('ssh itself takes the option after the node as the remote command (ssh -G, no connection)', async (t) => {
  const tree = tempTree({ id_ed25519: 'key' });
  t.teardown(tree.remove);
  const which = await execa('sh', ['-c', 'command -v ssh'], { reject: false });
  if (which.exitCode !== 0) return t.pass('no ssh on this host');
  const r = await execa('ssh', ['-G', ...sshArgs(lab(`${tree.dir}/id_ed25519`), 'node00', ['-oProxyCommand=touch /tmp/pwned'])], { reject: false });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^port 2222$/m);
  t.notRegex(r.stdout, /^proxycommand /m);
});

test('corelab status shows each node\'s SSH forward with the guest port it goes to', (t) => {
  const n = { name: 'node01', address: '192.168.0.10', user: 'core', sshPort: 40022, guestSshPort: 2345, console: '/tmp/c.log' };
  t.is(nodeStatusLine(n, true), '  node01     192.168.0.10    running  ssh core@127.0.0.1:40022 (guest port 2345)  console /tmp/c.log');
  t.is(nodeStatusLine({ ...n, guestSshPort: 22 }, false), '  node01     192.168.0.10    off      ssh core@127.0.0.1:40022 (guest port 22)  console /tmp/c.log');
  t.is(nodeStatusLine({ ...n, guestSshPort: undefined }, true), '  node01     192.168.0.10    running  ssh core@127.0.0.1:40022  console /tmp/c.log', 'a state written before the guest port was kept');
});
