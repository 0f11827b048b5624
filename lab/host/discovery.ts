import { createServer, request, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import getPort from 'get-port';
import { Daemon, assertStarted, frozen } from './proc.js';
import { LabError } from '../util/errors.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { HOST_SERVICES_ADDR, type GuestForward } from './switch.js';

/**
 * The etcd discovery service of the lab: a real etcd (Debian's, v2 API on, loopback only) that
 * holds the registry, behind a small HTTP front that also answers GET /new?size=N the way the
 * public discovery service did. Guests reach the front at http://10.0.2.100:2379.
 */
export class DiscoveryService {
  static readonly GUEST_PORT = 2379;

  private constructor(
    private etcd: Daemon,
    private front: Server,
    readonly etcdPort: number,
    readonly frontPort: number,
  ) {}

  /** Base URL as guests see it. */
  get guestUrl(): string {
    return `http://${HOST_SERVICES_ADDR}:${DiscoveryService.GUEST_PORT}`;
  }

  /** Base URL as the host sees it. */
  get hostUrl(): string {
    return `http://127.0.0.1:${this.frontPort}`;
  }

  get forward(): GuestForward {
    return { name: 'discovery', guestAddr: HOST_SERVICES_ADDR, guestPort: DiscoveryService.GUEST_PORT, hostPort: this.frontPort };
  }

  /** Starts it; with `from`, on a copy of a checkpoint's data (the tokens and the members registered in them). */
  static async start(labDir: string, from?: string): Promise<DiscoveryService> {
    if (from) cpSync(from, join(labDir, 'discovery-etcd'), { recursive: true });
    const [clientPort, peerPort, frontPort] = [await getPort({ host: '127.0.0.1' }), await getPort({ host: '127.0.0.1' }), await getPort({ host: '127.0.0.1' })];
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const etcd = Daemon.start('etcd (discovery)', [
      'etcd', '--name', 'discovery', '--data-dir', join(labDir, 'discovery-etcd'), '--enable-v2',
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `discovery=${peer}`,
      '--log-outputs', 'stderr',
    ], join(labDir, 'discovery-etcd.log'));
    let front: Server | undefined;
    try {
      await waitUntil('the discovery etcd to answer', async () => {
        assertStarted(etcd, `etcd (discovery), see ${join(labDir, 'discovery-etcd.log')};`);
        const r = await fetch(`${client}/health`).catch((e: Error) => { throw new NotYet(e.message); });
        if (!r.ok) throw new NotYet(`HTTP ${r.status}`);
      }, { timeoutMs: 30_000, intervalMs: 200 });
      front = await listen(clientPort, frontPort);
    } catch (err) {
      front?.close();
      await etcd.stop();
      throw err;
    }
    return new DiscoveryService(etcd, front, clientPort, frontPort);
  }

  /** Asks the front for a new token the way a user would (GET /new?size=N); returns the guest-side URL. */
  async newToken(size: number): Promise<string> {
    const r = await fetch(`${this.hostUrl}/new?size=${size}`);
    if (!r.ok) throw new LabError(`discovery service: /new?size=${size} answered HTTP ${r.status}: ${await r.text()}`);
    return (await r.text()).trim();
  }

  get running(): boolean {
    return this.etcd.running;
  }

  /** Copies etcd's data folder to dest, with etcd stopped (SIGSTOP) meanwhile so no write is half done. */
  snapshotTo(dest: string): void {
    frozen(this.etcd, () => cpSync(this.dataDir, dest, { recursive: true }));
  }

  private get dataDir(): string {
    return join(dirname(this.etcd.logFile), 'discovery-etcd');
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.front.close(() => r()));
    await this.etcd.stop();
  }
}

function listen(etcdPort: number, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/new') {
      const size = Number(url.searchParams.get('size') ?? 3);
      if (!Number.isInteger(size) || size < 1 || size > 99) {
        res.writeHead(400).end('size must be a whole number from 1 to 99\n');
        return;
      }
      const token = randomBytes(16).toString('hex');
      const key = `/v2/keys/_etcd/registry/${token}`;
      fetch(`http://127.0.0.1:${etcdPort}${key}/_config/size`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `value=${size}`,
      }).then(
        async (r) => {
          if (!r.ok) return res.writeHead(502).end(`etcd refused the token: ${await r.text()}\n`);
          // The URL is for guests: the lab forwards 10.0.2.100:2379 to this front.
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`http://${HOST_SERVICES_ADDR}:${DiscoveryService.GUEST_PORT}${key}`);
        },
        (e: Error) => res.writeHead(502).end(`etcd unreachable: ${e.message}\n`),
      );
      return;
    }
    // Everything else (the registry itself, as etcd's discovery client uses it) goes to etcd unchanged.
    const upstream = request({ host: '127.0.0.1', port: etcdPort, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(`etcd unreachable: ${e.message}\n`);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new LabError(`discovery front could not listen on 127.0.0.1:${port}: ${e.message}`, { fix: e.code === 'EADDRINUSE' ? 'another program took the port; run again' : undefined })),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
