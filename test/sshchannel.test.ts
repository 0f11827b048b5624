import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { GuestChannel, labKeyPair, makeLabKey } from '../lab/machine/ssh.js';

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
          if (info.command === 'true') {
            done = true;
            stream.exit(0);
            stream.end();
          }
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

/**
 * QEMU's user network in front of a booting guest: it accepts each connection at once, holds it
 * silent for holdMs (the guest not listening yet), then joins it to the guest's sshd; Infinity
 * never does. Counts the connections.
 */
async function slirp(t: import('ava').ExecutionContext, guestPort: number, holdMs: number) {
  const socks: Socket[] = [];
  const ups: Socket[] = [];
  let closed = 0;
  const server = createServer((sock) => {
    socks.push(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => closed++);
    if (holdMs === Infinity) return void sock.resume(); // read (and drop) what comes, so its end is seen
    setTimeout(() => {
      const up = connect(guestPort, '127.0.0.1');
      ups.push(up);
      up.on('error', () => sock.destroy());
      sock.pipe(up).pipe(sock);
    }, holdMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of [...socks, ...ups]) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => socks.length, open: () => socks.length - closed };
}

function channelTo(t: import('ava').ExecutionContext, port: number): GuestChannel {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-sshchannel-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const channel = new GuestChannel('node01', port, 'core', makeLabKey(join(dir, 'id_ed25519')));
  t.teardown(() => channel.close());
  return channel;
}

const booting = { alive: () => true, consoleTail: () => '(console)' };

test('waiting for a booting guest keeps its first connection until sshd answers it, past 30 s', async (t) => {
  const guest = await fakeGuest(t);
  const net = await slirp(t, guest.port, 31_000);
  const channel = channelTo(t, net.port);
  await channel.waitReady({ timeoutMs: 60_000, ...booting });
  t.is(net.connections(), 1, 'one connection: it was not cut and dialed again');
});

test('a failed boot on the console cuts the connection that waits for the guest, without waiting for it', async (t) => {
  const guest = await fakeGuest(t);
  const net = await slirp(t, guest.port, Infinity);
  const channel = channelTo(t, net.port);
  const t0 = Date.now();
  const fatal = () => (Date.now() - t0 > 1500 ? 'node01 failed to boot (kernel panic)' : undefined);
  const err = await t.throwsAsync(channel.waitReady({ timeoutMs: 60_000, ...booting, fatal }));
  t.regex(err!.message, /^node01 failed to boot \(kernel panic\)/);
  t.true(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

test('QEMU exiting cuts the connection that waits for the guest', async (t) => {
  const guest = await fakeGuest(t);
  const net = await slirp(t, guest.port, Infinity);
  const channel = channelTo(t, net.port);
  const t0 = Date.now();
  const err = await t.throwsAsync(channel.waitReady({ timeoutMs: 60_000, alive: () => Date.now() - t0 < 1500, consoleTail: () => '(console)' }));
  t.regex(err!.message, /^node01: QEMU exited while the guest was booting; console:\n\(console\)/);
  t.true(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

test('an interrupt ends the wait and closes the connection that waits for the guest', async (t) => {
  const guest = await fakeGuest(t);
  const net = await slirp(t, guest.port, Infinity);
  const channel = channelTo(t, net.port);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1000);
  const t0 = Date.now();
  const err = await t.throwsAsync(channel.waitReady({ timeoutMs: 60_000, ...booting, signal: ac.signal }));
  t.regex(err!.message, /^interrupted while waiting for node01 to accept SSH/);
  t.true(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  await new Promise((r) => setTimeout(r, 500));
  t.is(net.open(), 0, 'no connection left open');
});

test('the boot timeout ends a connection the guest never answers at the deadline', async (t) => {
  const guest = await fakeGuest(t);
  const net = await slirp(t, guest.port, Infinity);
  const channel = channelTo(t, net.port);
  const t0 = Date.now();
  const err = await t.throwsAsync(channel.waitReady({ timeoutMs: 2000, ...booting }));
  t.regex(err!.message, /^timed out after 2s \(1 tries\) waiting for node01 to accept SSH on 127\.0\.0\.1:\d+ \(guest port 22\); last saw:\n\s+ssh: Timed out while waiting for handshake/);
  t.true(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

test('a guest that answers at once is ready on the first try', async (t) => {
  const guest = await fakeGuest(t);
  const net = await slirp(t, guest.port, 0);
  const channel = channelTo(t, net.port);
  await channel.waitReady({ timeoutMs: 10_000, ...booting });
  t.is(net.connections(), 1);
});

test('every lab key pair can be read back by ssh2 (its generator makes ~1 in 256 it cannot read)', (t) => {
  // 2000 pairs: on ssh2's generator alone, at least one is malformed with a probability of ~99.9 %.
  for (let i = 0; i < 2000; i++) {
    const pair = labKeyPair('corelab');
    if (ssh2.utils.parseKey(pair.private) instanceof Error || ssh2.utils.parseKey(pair.public) instanceof Error) return t.fail(`pair ${i} cannot be read back`);
  }
  t.pass();
});
