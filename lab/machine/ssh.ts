import { readFileSync, writeFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const { Client, utils } = ssh2;
type Client = InstanceType<typeof ssh2.Client>;
import { LabError } from '../util/errors.js';
import { NotYet, waitUntil } from '../util/poll.js';

export interface CommandResult {
  node: string;
  command: string;
  stdout: string;
  stderr: string;
  /** null when the command was cut off (timeout, connection lost). */
  exitCode: number | null;
  durationMs: number;
  error?: string;
}

export interface LabKey {
  privateKey: string;
  publicKey: string;
  privateKeyFile: string;
}

/**
 * An ed25519 key pair that ssh2 can read back. ssh2's generateKeyPairSync strips the leading zero
 * bytes of the public key, so about 1 pair in 256 is malformed ("Cannot parse privateKey: Malformed
 * OpenSSH private key", mscdex/ssh2#1390, #1513): such a pair is made again.
 */
export function labKeyPair(comment: string): { private: string; public: string } {
  for (let i = 0; ; i++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
    if (i >= 16) throw new LabError('ssh2 made 17 ed25519 key pairs in a row that it cannot read back');
  }
}

/** A per-lab SSH key pair; the private key file is written with mode 0600. */
export function makeLabKey(privateKeyFile: string, comment = 'corelab'): LabKey {
  const pair = labKeyPair(comment);
  writeFileSync(privateKeyFile, pair.private, { mode: 0o600 });
  writeFileSync(`${privateKeyFile}.pub`, pair.public + '\n', { mode: 0o644 });
  return { privateKey: pair.private, publicKey: pair.public.trim(), privateKeyFile };
}

/** A saved key pair (a checkpoint's), copied to privateKeyFile: restored guests trust only it. */
export function loadLabKey(from: string, privateKeyFile: string): LabKey {
  const privateKey = readFileSync(from, 'utf8');
  const publicKey = readFileSync(`${from}.pub`, 'utf8').trim();
  writeFileSync(privateKeyFile, privateKey, { mode: 0o600 });
  writeFileSync(`${privateKeyFile}.pub`, publicKey + '\n', { mode: 0o644 });
  return { privateKey, publicKey, privateKeyFile };
}

/** The longest a boot's SSH handshake may take (GuestChannel.waitReady). */
const HANDSHAKE_MAX_MS = 90_000;

/** The command channel to one guest: SSH to its forwarded port on 127.0.0.1, as its image's user. */
export class GuestChannel {
  private client?: Client;
  private connecting?: Promise<Client>;
  /** The client of `connecting`, until its handshake ends: close() cuts it too. */
  private handshaking?: Client;

  /** port: the host end of the node's SSH forward; guestPort: where it goes in the guest (for messages). */
  constructor(readonly node: string, readonly port: number, readonly user: string, private key: LabKey, readonly guestPort = 22) {}

  private connect(readyTimeoutMs = 30_000): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Client>((resolve, reject) => {
      const c = new Client();
      this.handshaking = c;
      c.once('ready', () => {
        this.client = c;
        resolve(c);
      });
      // ssh2 may emit several errors (handshake lost, then reset); all of them end this client.
      c.on('error', (e) => {
        if (this.client === c) this.client = undefined;
        reject(e);
      });
      c.on('close', () => {
        if (this.client === c) this.client = undefined;
        reject(new Error('the connection closed before the SSH handshake ended'));
      });
      c.connect({
        host: '127.0.0.1',
        port: this.port,
        username: this.user,
        privateKey: this.key.privateKey,
        readyTimeout: readyTimeoutMs,
        hostVerifier: () => true, // a fresh lab guest: its host key is new every boot
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
      });
    }).finally(() => {
      this.connecting = undefined;
      this.handshaking = undefined;
    });
    return this.connecting;
  }

  /**
   * Waits until the guest accepts SSH and runs a command. Fails early if QEMU is gone, and on
   * timeout with what the console showed last.
   */
  async waitReady(opts: { timeoutMs: number; signal?: AbortSignal; alive: () => boolean; consoleTail: () => string; fatal?: () => string | undefined }): Promise<void> {
    const deadline = Date.now() + opts.timeoutMs;
    let fatal: string | undefined;
    const check = () => {
      if (!opts.alive()) throw new LabError(`${this.node}: QEMU exited while the guest was booting; console:\n${opts.consoleTail()}`);
      fatal ??= opts.fatal?.();
      if (fatal) throw new LabError(fatal, { fix: 'the guest cannot finish this boot; the console lines above say why (for Ignition: its own error about the node\'s config)' });
    };
    await waitUntil(`${this.node} to accept SSH on 127.0.0.1:${this.port} (guest port ${this.guestPort})`, async () => {
      check();
      // While an attempt waits for the guest, QEMU exiting, the console showing a failed boot or an
      // interrupt cuts it.
      const cut = () => this.close();
      const watch = setInterval(() => {
        try {
          check();
        } catch {
          cut();
        }
      }, 1000);
      opts.signal?.addEventListener('abort', cut, { once: true });
      try {
        // The handshake may take until the boot's deadline (at most 90 s, past the 75 s after which
        // QEMU's user network gives up a connection the guest never answers): QEMU holds the
        // connection until the guest listens and resends the SYN then, and sshd, just started on a
        // busy guest, takes seconds to answer. Cut at 30 s, a connection made at QEMU's start was
        // dropped while sshd answered it, and the node answered 8-17 s later (3 nodes, TCG).
        await this.connect(Math.max(1000, Math.min(HANDSHAKE_MAX_MS, deadline - Date.now())));
        const r = await this.run('true', { timeoutMs: 30_000 });
        if (r.exitCode !== 0) throw new NotYet(`ssh ran "true" with exit ${r.exitCode}: ${r.stderr}`);
      } catch (err) {
        if (err instanceof NotYet) throw err;
        this.close();
        check();
        throw new NotYet(`ssh: ${(err as Error).message}\nconsole:\n${opts.consoleTail()}`);
      } finally {
        clearInterval(watch);
        opts.signal?.removeEventListener('abort', cut);
      }
    }, { timeoutMs: opts.timeoutMs, intervalMs: 1000, signal: opts.signal });
  }

  /**
   * Runs a command through the user's shell; never throws for the command's own failure. An abort
   * (Ctrl-C, the scenario's timeout) ends it at once: the connection is closed, the guest's shell
   * gets its hangup.
   */
  async run(command: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<CommandResult> {
    const t0 = Date.now();
    const client = await this.connect();
    return new Promise<CommandResult>((resolve) => {
      let stdout = '';
      let stderr = '';
      let done = false;
      const onClose = () => finish(null, 'the SSH connection closed');
      const onAbort = () => {
        finish(null, 'interrupted');
        this.close();
      };
      const finish = (exitCode: number | null, error?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        client.off('close', onClose);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve({ node: this.node, command, stdout, stderr, exitCode, durationMs: Date.now() - t0, error });
      };
      // A command that outlives its time loses its own channel (sshd hangs up its session); the
      // connection stays, for the other commands on it (a step, the boot profile read in the
      // background, which a checkpoint's pause can hold up past its time). A guest that stopped
      // answering is found by the keepalive. Only a channel the guest never opened takes the
      // connection with it.
      let channel: { close(): void } | undefined;
      const timer = setTimeout(() => {
        finish(null, `no answer within ${opts.timeoutMs / 1000}s`);
        if (channel) channel.close();
        else this.close();
      }, opts.timeoutMs);
      client.exec(command, (err, stream) => {
        if (err) return finish(null, err.message);
        channel = stream;
        let exitCode: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('exit', (code: number | null, signal?: string) => {
          exitCode = typeof code === 'number' ? code : null;
          if (exitCode === null && signal) stderr += `\n(killed by signal ${signal})`;
        });
        stream.on('close', () => finish(exitCode, exitCode === null ? 'the channel closed without an exit status' : undefined));
      });
      client.once('close', onClose);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.client?.end();
    this.client = undefined;
    this.handshaking?.destroy();
  }
}
