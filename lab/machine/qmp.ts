import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { LabError } from '../util/errors.js';

/** A minimal QEMU Machine Protocol client: one unix socket, JSON lines, numbered commands. */
export class Qmp {
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  private constructor(private sock: Socket) {
    createInterface({ input: sock })
      .on('line', (line) => this.onLine(line))
      .on('error', () => undefined); // EPIPE after QEMU quits; 'close' below settles what is pending
    sock.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new LabError('QMP connection closed (QEMU exited)'));
      this.pending.clear();
    });
    sock.on('error', () => undefined);
  }

  static async connect(path: string): Promise<Qmp> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path, () => resolve(s));
      s.once('error', reject);
    });
    const qmp = new Qmp(sock);
    await qmp.greeting;
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  private greetingResolve!: () => void;
  private greeting = new Promise<void>((r) => (this.greetingResolve = r));

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if ('QMP' in msg) return this.greetingResolve();
    if ('event' in msg) return; // events are not used; replies are matched by id
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    if ('error' in msg) {
      const e = msg.error as { class: string; desc: string };
      p.reject(new LabError(`QMP error ${e.class}: ${e.desc}`));
    } else p.resolve(msg.return);
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new LabError(`QMP ${command}: QEMU is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }
}
