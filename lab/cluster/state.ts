import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { alive } from '../util/lock.js';
import { log } from '../util/log.js';
import { isSafeLabName, stateProblem, warnIgnoredState } from './stateguard.js';

export type { LabState } from './stateguard.js';
import type { LabState } from './stateguard.js';

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

/** The state folder and its labs folder, for this user only (0700). */
export function makeStateDir(): string {
  mkdirSync(labsDir(), { recursive: true, mode: 0o700 });
  if (!process.env.CORELAB_STATE) privateDir(stateDir()); // a folder named by $CORELAB_STATE is left as it is
  privateDir(labsDir());
  return stateDir();
}

export function writeState(state: LabState): void {
  makeStateDir();
  const f = stateFile(state.name);
  rmSync(`${f}.tmp`, { force: true });
  writeFileSync(`${f}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}

/** A lab's state, when its file is a regular file that passes stateProblem (else a warning, and undefined). */
export function readState(name: string): LabState | undefined {
  if (!isSafeLabName(name)) return undefined;
  const file = stateFile(name);
  if (!existsSync(file) && !isSymlink(file)) return undefined;
  if (!lstatSync(file).isFile()) return warnIgnoredState(file, 'it is not a regular file');
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return warnIgnoredState(file, `it is not JSON (${(err as Error).message})`);
  }
  const problem = stateProblem(state, name);
  return problem ? warnIgnoredState(file, problem) : (state as LabState);
}

export function removeState(name: string): void {
  if (isSafeLabName(name)) rmSync(stateFile(name), { force: true });
}

/** Every lab with a state file, alive or not. */
export function listStates(): LabState[] {
  if (!existsSync(labsDir())) return [];
  return readdirSync(labsDir())
    .filter((f) => f.endsWith('.json') && isSafeLabName(f.slice(0, -5)))
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
  for (const dir of orphanLabDirs()) {
    rmSync(dir, { recursive: true, force: true });
    cleaned.push(basename(dir));
    log(`cleaned up lab folder ${dir}, left by a corelab process that is gone`);
  }
  return cleaned;
}

function isQemuOf(pid: number, dir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return basename(argv[0]).startsWith('qemu-system') && argv.some((a) => a.includes(`${dir}/`));
  } catch {
    return false;
  }
}

/** Makes a folder of corelab's own 0700 (one made by an older corelab may be 0755). */
function privateDir(dir: string): void {
  const st = statSync(dir);
  if ((!process.getuid || st.uid === process.getuid()) && (st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

const OWNER_FILE = 'owner.pid';

/**
 * A new lab folder in the temp dir, corelab-NAME-XXXXXX (0700), with its owner's pid inside: the
 * first thing written, so a corelab killed at any moment after leaves a folder the next command
 * recognises as its own and removes (cleanStaleLabs), state file or not.
 */
export function makeLabDir(scenario: string): string {
  for (;;) {
    const dir = join(tmpdir(), `corelab-${scenario}-${randomBytes(4).toString('hex').slice(0, 6)}`);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    writeFileSync(join(dir, OWNER_FILE), String(process.pid), { mode: 0o600 });
    return dir;
  }
}

/** Lab folders in the temp dir whose owner (owner.pid inside) is gone, with or without a state file. */
function orphanLabDirs(): string[] {
  const base = tmpdir();
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => d.startsWith('corelab-') && isSafeLabName(d))
    .map((d) => join(base, d))
    .filter((dir) => {
      try {
        const st = lstatSync(dir);
        if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) return false;
        const owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
        return Number.isInteger(owner) && owner > 0 && !alive(owner);
      } catch {
        return false; // not a lab folder of this corelab (no owner file): never touched
      }
    });
}
