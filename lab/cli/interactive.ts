import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../cluster/lab.js';
import { loadScenario } from '../scenario/loader.js';
import { LabError, formatError } from '../util/errors.js';
import { cleanStaleLabs, listStates, makeStateDir, stateFile, type LabState } from '../cluster/state.js';
import { isCorelabProcess } from '../cluster/stateguard.js';
import { alive } from '../images/store.js';
import { readTail } from '../machine/machine.js';
import { sleep } from '../util/poll.js';
import { log } from '../util/log.js';
import { PROJECT_DIR } from '../util/paths.js';

/**
 * `corelab up`: starts a detached `corelab serve` that owns the lab (its QEMUs die with it), and
 * returns once the lab is ready, printing how to reach it.
 */
export async function up(scenarioPath: string, opts: { accel?: 'kvm' | 'tcg'; signal?: AbortSignal }): Promise<LabState> {
  loadScenario(scenarioPath); // bad input is reported here, before anything starts
  const logFile = join(makeStateDir(), `up-${Date.now()}.log`);
  const fd = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [join(PROJECT_DIR, 'bin', 'corelab.js'), 'serve', scenarioPath, ...(opts.accel ? ['--accel', opts.accel] : [])], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.unref();
  log(`booting in the background (pid ${child.pid}); its log: ${logFile}`);
  let exited = false;
  child.on('exit', () => (exited = true));
  for (;;) {
    if (opts.signal?.aborted) {
      process.kill(child.pid!, 'SIGTERM');
      throw new LabError('interrupted: the lab is being torn down');
    }
    const state = listStates().find((s) => s.ownerPid === child.pid);
    if (state?.ready) return state;
    if (exited || !alive(child.pid!)) throw new LabError(`the lab did not come up; last lines of ${logFile}:\n${readTail(logFile, 25)}`);
    await sleep(1000);
  }
}

/** `corelab serve`: sets the lab up, holds it until SIGTERM/SIGINT, then tears it down. */
export async function serve(scenarioPath: string, opts: { accel?: 'kvm' | 'tcg'; signal: AbortSignal }): Promise<void> {
  const plan = loadScenario(scenarioPath);
  const lab = new Lab(plan, { accel: opts.accel, signal: opts.signal });
  try {
    await lab.setUp();
    log(`lab ${lab.name} is ready; stop it with: corelab down ${lab.name}`);
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } catch (err) {
    lab.saveState(formatError(err));
    throw err;
  } finally {
    await lab.tearDown();
  }
}

/** The lab a command means: the one named (or whose scenario is named), else the only one. */
export function findLab(name?: string, node?: string): LabState {
  cleanStaleLabs();
  const labs = listStates();
  let found = name ? labs.filter((l) => l.name === name || l.scenario === name) : labs;
  if (node) found = found.filter((l) => l.nodes.some((n) => n.name === node));
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new LabError(`no running lab${name ? ` "${name}"` : ''}${node ? ` with a node "${node}"` : ''}`, {
      fix: labs.length ? `running labs: ${labs.map((l) => `${l.name} (${l.nodes.map((n) => n.name).join(', ')})`).join('; ')}` : 'start one with: corelab up scenarios/etcd-discovery',
    });
  }
  throw new LabError(`${found.length} labs match: ${found.map((l) => l.name).join(', ')}`, { fix: 'name one with --lab NAME' });
}

export function statusText(): string {
  cleanStaleLabs();
  const labs = listStates();
  if (labs.length === 0) return 'no labs are running\n';
  const lines: string[] = [];
  for (const l of labs) {
    lines.push(`${l.name}  scenario ${l.scenario}  ${l.error ? 'failed' : l.ready ? 'ready' : 'booting'}  owner pid ${l.ownerPid}  since ${l.startedAt}`);
    for (const n of l.nodes) {
      const state = n.qemuPid && alive(n.qemuPid) ? 'running' : 'off';
      lines.push(`  ${n.name.padEnd(10)} ${n.address.padEnd(15)} ${state.padEnd(8)} ssh ${n.user}@127.0.0.1:${n.sshPort}  console ${n.console}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `corelab down`: asks the owner to tear its lab down and waits until it has. */
export async function down(lab: LabState, timeoutMs = 60_000): Promise<void> {
  if (alive(lab.ownerPid) && !isCorelabProcess(lab.ownerPid)) {
    throw new LabError(`lab ${lab.name}'s owner, process ${lab.ownerPid}, is not a corelab process: not signalling it`, { fix: `if the lab is gone, remove ${stateFile(lab.name)}` });
  }
  if (alive(lab.ownerPid)) process.kill(lab.ownerPid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(lab.ownerPid) && Date.now() < deadline) await sleep(250);
  if (alive(lab.ownerPid)) process.kill(lab.ownerPid, 'SIGKILL');
  await sleep(250);
  cleanStaleLabs();
}

/** The ssh command line for a node of a lab (host keys are new every boot, so none are kept). */
export function sshArgs(lab: LabState, node: string, command: string[]): string[] {
  const n = lab.nodes.find((x) => x.name === node);
  if (!n) throw new LabError(`lab ${lab.name} has no node "${node}"`, { fix: `its nodes: ${lab.nodes.map((x) => x.name).join(', ')}` });
  if (!existsSync(lab.keyFile)) throw new LabError(`the lab's SSH key ${lab.keyFile} is gone`);
  return ['-i', lab.keyFile, '-p', String(n.sshPort), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '--', `${n.user}@127.0.0.1`, ...command];
}
