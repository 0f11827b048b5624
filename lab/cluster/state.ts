import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { alive } from '../util/lock.js';
import { log } from '../util/log.js';

/** What another terminal needs to find a running lab and reach its nodes. */
export interface LabState {
  name: string;
  scenario: string;
  /** The corelab process that owns the lab: its QEMUs die with it. */
  ownerPid: number;
  dir: string;
  keyFile: string;
  ready: boolean;
  error?: string;
  startedAt: string;
  nodes: Array<{ name: string; address: string; user: string; sshPort: number; qemuPid?: number; console: string }>;
}

/** $CORELAB_STATE, else $XDG_STATE_HOME/corelab, else ~/.local/state/corelab. */
export function stateDir(): string {
  if (process.env.CORELAB_STATE) return resolve(process.env.CORELAB_STATE);
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'corelab');
}

function labsDir(): string {
  return join(stateDir(), 'labs');
}

export function stateFile(name: string): string {
  return join(labsDir(), `${name}.json`);
}

export function writeState(state: LabState): void {
  mkdirSync(labsDir(), { recursive: true });
  const f = stateFile(state.name);
  writeFileSync(`${f}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${f}.tmp`, f);
}

export function readState(name: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(name), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function removeState(name: string): void {
  rmSync(stateFile(name), { force: true });
}

/** Every lab with a state file, alive or not. */
export function listStates(): LabState[] {
  if (!existsSync(labsDir())) return [];
  return readdirSync(labsDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => readState(f.slice(0, -5)))
    .filter((s): s is LabState => !!s);
}

/**
 * Removes what labs of dead corelab processes (killed -9, a crash, a reboot) left: their QEMUs if
 * any still run, their lab folders and state files. Returns the names cleaned.
 */
export function cleanStaleLabs(): string[] {
  const cleaned: string[] = [];
  for (const s of listStates()) {
    if (alive(s.ownerPid)) continue;
    for (const n of s.nodes) {
      if (n.qemuPid && alive(n.qemuPid) && isQemuOf(n.qemuPid, s.dir)) process.kill(n.qemuPid, 'SIGKILL');
    }
    rmSync(s.dir, { recursive: true, force: true });
    removeState(s.name);
    cleaned.push(s.name);
    log(`cleaned up lab "${s.name}" left by process ${s.ownerPid}, which is gone (${s.dir})`);
  }
  return cleaned;
}

function isQemuOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}
