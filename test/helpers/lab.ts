import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = ['bin/corelab.js'];

/**
 * This test file's own lab state, checkpoint store and temp dir (ava runs each test file in its
 * own process, so this module is loaded once per file): the CLI runs below use them, so a test
 * neither uses nor touches the user's labs and checkpoints, and two test files that boot VMs at
 * once do not see each other's labs, lab folders or checkpoints. Removed when the file's tests end.
 */
const OWN = mkdtempSync(join(tmpdir(), 'corelab-testenv-'));
export const LAB_ENV = { CORELAB_STATE: join(OWN, 'state'), CORELAB_CHECKPOINTS: join(OWN, 'checkpoints'), TMPDIR: join(OWN, 'tmp') };
for (const d of Object.values(LAB_ENV)) mkdirSync(d, { recursive: true });
process.on('exit', () => rmSync(OWN, { recursive: true, force: true }));

/** Runs the real CLI as a user would (in this file's LAB_ENV unless env overrides it), collecting its output. */
export function corelab(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; all: true; env: Record<string, string>; extendEnv: true }> {
  return execa(process.execPath, [...CLI, ...args], { reject: false, all: true, env: { ...LAB_ENV, ...env }, extendEnv: true, forceKillAfterDelay: false });
}

/** Lab folders a scenario of this name left in this file's temp dir. */
export function leftoverDirs(scenario: string): string[] {
  return readdirSync(LAB_ENV.TMPDIR).filter((d) => d.startsWith(`corelab-${scenario}-`)).map((d) => join(LAB_ENV.TMPDIR, d));
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
