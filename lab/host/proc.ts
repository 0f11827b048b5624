/**
 * The host layer (lab/host/): programs the lab runs on the host, each a real Debian program on
 * 127.0.0.1: processes under setpriv --pdeathsig (this file), the host tools and their packages
 * (tools.ts), the vde switch of the lab segment (switch.ts), the discovery etcd (discovery.ts) and
 * the registry mirror (registry.ts). It imports only lab/scenario/ and lab/util/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, existsSync } from 'node:fs';
import { LabError } from '../util/errors.js';
import { onExit } from '../util/exit.js';

/**
 * A long-running host process of the lab (qemu, vde_switch, etcd, registry).
 * Started under `setpriv --pdeathsig KILL` so it dies with the lab even if the lab is killed -9;
 * its output goes to a log file; stop() is TERM, then KILL after a grace period.
 */
export class Daemon {
  private child: ChildProcess;
  private exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  private constructor(readonly name: string, readonly argv: string[], readonly logFile: string, env?: NodeJS.ProcessEnv) {
    const fd = openSync(logFile, 'a');
    const [cmd, ...args] = withPdeathsig(argv);
    // stdin is a pipe the lab never writes to: programs that exit on EOF (vde_switch) go with the lab.
    this.child = spawn(cmd, args, { stdio: ['pipe', fd, fd], env: env ?? process.env });
    this.child.stdin?.on('error', () => undefined);
    closeSync(fd);
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        live.delete(this);
        resolve(this.exitCode);
      });
      this.child.on('error', () => {
        this.exitCode = 127;
        live.delete(this);
        resolve(127);
      });
    });
  }

  static start(name: string, argv: string[], logFile: string, env?: NodeJS.ProcessEnv): Daemon {
    return new Daemon(name, argv, logFile, env);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  /** Resolves with the exit code if the process exits within ms, else undefined. */
  async waitFor(ms: number): Promise<number | null | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    if ((await this.waitFor(graceMs)) === undefined && this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

const live = new Set<Daemon>();

/** Runs fn with the daemon stopped (SIGSTOP), so files it writes are not changing; SIGCONT after. */
export function frozen<T>(d: Daemon, fn: () => T): T {
  d.kill('SIGSTOP');
  try {
    return fn();
  } finally {
    d.kill('SIGCONT');
  }
}

/** Last resort on process exit: no lab process outlives the lab. */
export function killAllDaemons(): void {
  for (const d of live) d.kill('SIGKILL');
}
onExit(killAllDaemons);

export function liveDaemons(): Daemon[] {
  return [...live];
}

let setprivPath: string | null | undefined;
function withPdeathsig(argv: string[]): string[] {
  if (setprivPath === undefined) setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
  return setprivPath ? [setprivPath, '--pdeathsig', 'KILL', '--', ...argv] : argv;
}

export function assertStarted(d: Daemon, what: string): void {
  if (!d.running) throw new LabError(`${what} exited at once (code ${d.exitCode}); see ${d.logFile}`);
}
