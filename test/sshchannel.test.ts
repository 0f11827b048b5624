import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { GuestChannel, makeLabKey } from '../lab/machine/ssh.js';

const { Server, utils } = ssh2;

/**
 * An SSH server in this process, standing in for a guest's sshd: "hang" never answers, "later"
 * answers after 600 ms. It records the commands whose channel the client closed.
 */
async function fakeGuest(t: import('ava').ExecutionContext) {
  const closedByClient: string[] = [];
  const server = new Server({ hostKeys: [utils.generateKeyPairSync('ed25519').private] }, (client) => {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          let done = false;
          const hungUp = () => {
            if (!done && !closedByClient.includes(info.command)) closedByClient.push(info.command);
          };
          stream.on('close', hungUp);
          stream.on('end', hungUp);
          stream.resume();
          if (info.command === 'later') {
            setTimeout(() => {
              done = true;
              stream.write('answered\n');
              stream.exit(0);
              stream.end();
            }, 600);
          }
        });
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, closedByClient };
}

test('a command that outlives its time loses its own channel only: another command on the connection still finishes', async (t) => {
  const guest = await fakeGuest(t);
  const dir = mkdtempSync(join(tmpdir(), 'corelab-sshchannel-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const channel = new GuestChannel('node01', guest.port, 'core', makeLabKey(join(dir, 'id_ed25519')));
  t.teardown(() => channel.close());
  const [hung, later] = await Promise.all([channel.run('hang', { timeoutMs: 300 }), channel.run('later', { timeoutMs: 10_000 })]);
  t.is(hung.exitCode, null);
  t.is(hung.error, 'no answer within 0.3s');
  t.is(later.error, undefined);
  t.is(later.exitCode, 0);
  t.is(later.stdout, 'answered\n');
  const again = await channel.run('later', { timeoutMs: 10_000 });
  t.is(again.exitCode, 0, 'the connection is still usable');
  t.deepEqual(guest.closedByClient, ['hang'], 'the timed-out command was hung up');
});
