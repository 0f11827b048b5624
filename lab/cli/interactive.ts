import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../cluster/lab.js';
import { Teardown } from '../cluster/teardown.js';
import { newFacts } from '../cluster/facts.js';
import { loadPlan, preflight } from '../run/plan.js';
import type { Catalog } from '../images/catalog.js';
import { LabError } from '../util/errors.js';
import { cleanStaleLabs, listStates, makeStateDir, stateFile, type LabState } from '../cluster/state.js';
import { isCorelabProcess } from '../cluster/stateguard.js';
import { alive } from '../util/lock.js';
import { readTail } from '../util/text.js';
import { NotYet, sleep, waitUntil } from '../util/poll.js';
import { log } from '../util/log.js';
import { PROJECT_DIR } from '../util/paths.js';

/**
 * `corelab up`: starts a detached `corelab serve` that owns the lab (its QEMUs die with it), and
 * returns once the lab is ready, printing how to reach it.
 */
export async function up(scenarioPath: string, opts: { accel?: 'kvm' | 'tcg'; signal?: AbortSignal; catalog: Catalog }): Promise<LabState> {
  loadPlan(scenarioPath, { catalog: opts.catalog }); // bad input is reported here, before anything starts
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
  opts.signal?.addEventListener('abort', () => process.kill(child.pid!, 'SIGTERM'), { once: true });
  // As long as the lab's own boot timeout (the serve process gives up and exits after it).
  return waitUntil('the lab to come up', async () => {
    const state = listStates().find((s) => s.ownerPid === child.pid);
    if (state?.ready) return state;
    if (exited || !alive(child.pid!)) throw new LabError(`the lab did not come up; last lines of ${logFile}:\n${readTail(logFile, 25)}`);
    throw new NotYet('booting');
  }, { timeoutMs: 24 * 3_600_000, intervalMs: 1000, signal: opts.signal });
}

/** `corelab serve`: sets the lab up, holds it until SIGTERM/SIGINT, then tears it down. */
export async function serve(scenarioPath: string, opts: { accel?: 'kvm' | 'tcg'; signal: AbortSignal; catalog: Catalog }): Promise<void> {
  const pre = await preflight(loadPlan(scenarioPath, { catalog: opts.catalog }), { catalog: opts.catalog, accel: opts.accel, signal: opts.signal });
  if ('skip' in pre) throw new LabError(`this lab cannot come up here: ${pre.skip}`);
  const teardown = new Teardown();
  try {
    const lab = await Lab.create(pre.plan, { signal: opts.signal, teardown, facts: newFacts() });
    log(`lab ${lab.name} is ready; stop it with: corelab down ${lab.name}`);
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await teardown.run();
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
    for (const n of l.nodes) lines.push(nodeStatusLine(n, !!n.qemuPid && alive(n.qemuPid)));
  }
  return lines.join('\n') + '\n';
}

/** One node in `corelab status`: its address, whether it runs, its SSH forward and the guest port it goes to, its console. */
export function nodeStatusLine(n: LabState['nodes'][number], running: boolean): string {
  const guest = n.guestSshPort ? ` (guest port ${n.guestSshPort})` : '';
  return `  ${n.name.padEnd(10)} ${n.address.padEnd(15)} ${(running ? 'running' : 'off').padEnd(8)} ssh ${n.user}@127.0.0.1:${n.sshPort}${guest}  console ${n.console}`;
}

/** `corelab down`: asks the owner to tear its lab down and waits until it has. */
export async function down(lab: LabState, timeoutMs = 60_000): Promise<void> {
  if (alive(lab.ownerPid) && !isCorelabProcess(lab.ownerPid)) {
    throw new LabError(`lab ${lab.name}'s owner, process ${lab.ownerPid}, is not a corelab process: not signalling it`, { fix: `if the lab is gone, remove ${stateFile(lab.name)}` });
  }
  if (alive(lab.ownerPid)) process.kill(lab.ownerPid, 'SIGTERM');
  await waitUntil(`lab ${lab.name} to be torn down`, async () => {
    if (alive(lab.ownerPid)) throw new NotYet(`its owner ${lab.ownerPid} is still up`);
  }, { timeoutMs, intervalMs: 250 }).catch(() => process.kill(lab.ownerPid, 'SIGKILL'));
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
