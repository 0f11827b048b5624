// A release mirror on 127.0.0.1 for the download tests, and the digest lists and signatures it serves.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as openpgp from 'openpgp';

export type Mode = 'normal' | 'cut-once' | 'lie';

/** A mirror on 127.0.0.1 laid out like the release folders; it logs every request. */
export class Mirror {
  readonly files = new Map<string, Buffer>();
  readonly modes = new Map<string, Mode>();
  readonly requests: Array<{ path: string; range?: string }> = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  count(path?: string): number {
    return this.requests.filter((r) => !path || r.path.endsWith(path)).length;
  }

  private serve(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    this.requests.push({ path, range: req.headers.range });
    const body = this.files.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const mode = this.modes.get(path) ?? 'normal';
    if (mode === 'lie' || (mode === 'cut-once' && this.count(path) === 1)) {
      // Promise the whole file, send half, hang up.
      res.writeHead(200, { 'content-length': body.length, ...(mode === 'cut-once' ? { 'accept-ranges': 'bytes' } : {}) });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    const range = req.headers.range?.match(/^bytes=(\d+)-$/);
    if (range) {
      const start = Number(range[1]);
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    res.end(body);
  }
}

export const hex = (algo: string, b: Buffer): string => createHash(algo).update(b).digest('hex');

/** Flatcar's DIGESTS layout: a header per algorithm, then `<hex>  <file>`. */
export function flatcarDigests(name: string, b: Buffer): string {
  return `# MD5 HASH\n${hex('md5', b)}  ${name}\n# SHA1 HASH\n${hex('sha1', b)}  ${name}\n# SHA512 HASH\n${hex('sha512', b)}  ${name}\n`;
}

export async function clearsign(text: string, armoredKey: string): Promise<string> {
  const signingKeys = await openpgp.readPrivateKey({ armoredKey });
  return openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys });
}

