import { execa, type ResultPromise } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = ['bin/corelab.js'];

/** Runs the real CLI as a user would, collecting its output. */
export function corelab(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; all: true; env: Record<string, string>; extendEnv: true }> {
  return execa(process.execPath, [...CLI, ...args], { reject: false, all: true, env, extendEnv: true });
}

/** Lab folders a scenario of this name left in the temp dir. */
export function leftoverDirs(scenario: string): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith(`corelab-${scenario}-`)).map((d) => join(tmpdir(), d));
}

/** Processes whose command line mentions text (a lab folder): qemu, vde_switch, etcd, socat. */
export function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text) && !cmd.includes('ava') && Number(pid) !== process.pid) out.push(`${pid} ${cmd.slice(0, 160)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

export function labDirOf(output: string): string | undefined {
  return output.match(/lab folder (\S+);/)?.[1];
}

/** Collects a running corelab's output until it matches (or the process ends); returns what it saw. */
export function outputUntil(child: ReturnType<typeof corelab>, re: RegExp): Promise<string> {
  let output = '';
  return new Promise<string>((resolve) => {
    child.all!.on('data', (d: Buffer) => {
      output += d.toString();
      if (re.test(output)) resolve(output);
    });
    void child.then(() => resolve(output));
  });
}

/** Nothing of a finished run is left: no process mentioning its lab folder, no folder of its scenario. */
export function assertLabGone(t: ExecutionContext, scenario: string, output: string): void {
  const dir = labDirOf(output);
  if (dir) {
    t.deepEqual(processesMentioning(dir), [], 'no qemu, vde_switch, etcd or socat of the lab is left');
    t.false(existsSync(dir), `lab folder ${dir} is removed`);
  }
  t.deepEqual(leftoverDirs(scenario), [], 'no lab folder of this scenario is left in the temp dir');
  t.notRegex(output, /internal error: .* still running at exit/, 'the run stopped every process it started');
}
