import { createServer, type Server } from 'node:http';
import getPort from 'get-port';
import { LabError } from '../util/errors.js';
import { HOST_SERVICES_ADDR, type GuestForward } from './switch.js';

/**
 * A small static file server on 127.0.0.1 for what guests would fetch from the internet (RancherOS's
 * releases.yml and os-services files, rancherfiles.ts): GET of a path in its table, 404 otherwise.
 * Guests reach it at http://10.0.2.100:8080 through the forward it names.
 */
export class FileService {
  static readonly GUEST_PORT = 8080;
  /** Every path asked for, in order, with the status answered (what a test or report can check). */
  readonly requests: Array<{ path: string; status: number }> = [];

  private constructor(private server: Server, readonly port: number, private files: ReadonlyMap<string, string>) {}

  static async start(files: Record<string, string>): Promise<FileService> {
    const port = await getPort({ host: '127.0.0.1' });
    const table = new Map(Object.entries(files));
    let service: FileService | undefined;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = table.get(path);
      const status = req.method !== 'GET' && req.method !== 'HEAD' ? 405 : body === undefined ? 404 : 200;
      service?.requests.push({ path, status });
      if (status !== 200) return void res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 404 ? `not served by the lab: ${path}\n` : 'GET only\n');
      res.writeHead(200, { 'content-type': path.endsWith('.yml') ? 'application/x-yaml' : 'text/plain', 'content-length': Buffer.byteLength(body!) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new LabError(`the lab's file service could not listen on 127.0.0.1:${port}: ${e.message}`, { fix: e.code === 'EADDRINUSE' ? 'another program took the port; run again' : undefined })),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    service = new FileService(server, port, table);
    return service;
  }

  /** Base URL as guests see it. */
  get guestUrl(): string {
    return `http://${HOST_SERVICES_ADDR}:${FileService.GUEST_PORT}`;
  }

  /** Base URL as the host sees it. */
  get hostUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get forward(): GuestForward {
    return { name: 'files', guestAddr: HOST_SERVICES_ADDR, guestPort: FileService.GUEST_PORT, hostPort: this.port };
  }

  get paths(): string[] {
    return [...this.files.keys()];
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
