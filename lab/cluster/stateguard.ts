import { lstatSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { warn } from '../util/log.js';

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
  /** sshPort: the host port (127.0.0.1) of the node's SSH forward; guestSshPort: where it goes in the guest (22 when absent). */
  nodes: Array<{ name: string; address: string; user: string; sshPort: number; guestSshPort?: number; qemuPid?: number; console: string }>;
}

/**
 * A state file is read by every later command, which may delete the lab folder it names and kill
 * its processes. So an entry is trusted only when it looks exactly like one corelab wrote: its name
 * one path component and its file's name, its dir a real folder `corelab-*` right under the temp
 * dir (the lab's name is that folder's name), its key in that folder. Anything else is ignored with
 * a warning: never deleted, its pids never signalled.
 */
export function stateProblem(s: unknown, fileBase: string): string | undefined {
  if (!s || typeof s !== 'object') return 'it is not a JSON object';
  const st = s as Partial<LabState>;
  if (typeof st.name !== 'string' || !isSafeLabName(st.name)) return `its name ${JSON.stringify(st.name)} is not a corelab lab name (corelab-*, one path component)`;
  if (st.name !== fileBase) return `its name "${st.name}" is not its file's name "${fileBase}"`;
  if (typeof st.dir !== 'string' || !isAbsolute(st.dir) || resolve(st.dir) !== st.dir) return `its dir ${JSON.stringify(st.dir)} is not an absolute, normalized path`;
  if (dirname(st.dir) !== resolve(tmpdir()) || basename(st.dir) !== st.name) return `its dir ${st.dir} is not the lab folder ${join(resolve(tmpdir()), st.name)}`;
  const dirProblem = ownFolderProblem(st.dir);
  if (dirProblem) return `its dir ${st.dir} ${dirProblem}`;
  if (st.keyFile !== join(st.dir, 'id_ed25519')) return `its key file ${JSON.stringify(st.keyFile)} is not in its lab folder`;
  if (!isPid(st.ownerPid)) return `its owner pid ${JSON.stringify(st.ownerPid)} is not a process id`;
  if (!Array.isArray(st.nodes)) return 'it has no node list';
  for (const n of st.nodes) {
    if (!n || typeof n !== 'object' || typeof n.name !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(n.name)) return `a node's name ${JSON.stringify(n?.name)} is not a node name`;
    if (typeof n.user !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(n.user)) return `node ${n.name}'s user ${JSON.stringify(n.user)} is not a user name`;
    if (!Number.isInteger(n.sshPort) || n.sshPort < 1 || n.sshPort > 65535) return `node ${n.name}'s ssh port ${JSON.stringify(n.sshPort)} is not a port`;
    if (n.guestSshPort !== undefined && (!Number.isInteger(n.guestSshPort) || n.guestSshPort < 1 || n.guestSshPort > 65535)) return `node ${n.name}'s guest ssh port ${JSON.stringify(n.guestSshPort)} is not a port`;
    if (n.qemuPid !== undefined && !isPid(n.qemuPid)) return `node ${n.name}'s qemu pid ${JSON.stringify(n.qemuPid)} is not a process id`;
  }
  return undefined;
}

/** One path component, no control characters, of the form corelab-*. */
export function isSafeLabName(name: string): boolean {
  return /^corelab-[^/\\\0-\x1f\x7f]{1,200}$/.test(name) && name !== '.' && name !== '..';
}

function isPid(p: unknown): p is number {
  return Number.isInteger(p) && (p as number) > 1 && (p as number) < 2 ** 22;
}

/** Undefined when path is absent or a real folder of this user; else what it is instead. */
function ownFolderProblem(path: string): string | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined; // gone: nothing there to delete
  }
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a folder';
  if (process.getuid && st.uid !== process.getuid()) return `belongs to uid ${st.uid}, not this user`;
  return undefined;
}

const warned = new Set<string>();

/** Warns once per process about a state file that is ignored. */
export function warnIgnoredState(file: string, problem: string): undefined {
  if (warned.has(file)) return undefined;
  warned.add(file);
  warn(`ignoring the lab state file ${file}: ${problem}; corelab did not write it as it is, so it neither deletes what it names nor signals its processes (fix: remove the file by hand if it is not a lab of yours)`);
  return undefined;
}

/** True when pid is a live corelab process (not a pid the system has since given to another program). */
export function isCorelabProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('corelab');
  } catch {
    return false;
  }
}
