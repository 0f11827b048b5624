import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../util/paths.js';
import { alive } from '../util/lock.js';
import { LabError } from '../util/errors.js';
import { FORMAT, layout, type Inputs } from './layout.js';

/**
 * The checkpoints layer (lab/checkpoints/): the store of saved labs (this file: list, read,
 * commit, check, prune), their keys (key.ts: a hash of everything that decides the lab's state at
 * that point, so a restore never runs on a stale state) and their on-disk layout (layout.ts: every
 * file name in one place). Saving and restoring a running lab is the cluster's (lab/cluster/).
 * It imports machine/ and below, never cluster/ or above.
 */



export interface CheckpointNode {
  name: string;
  /** running: memory saved too; off: disk only (or nothing, if it never booted). */
  state: 'running' | 'off';
  hasDisk: boolean;
  /** Its config came by fw_cfg under this name (saved as ignition.json), not on a drive (config.iso). */
  fwCfgName?: string;
}

export interface CheckpointMeta {
  key: string;
  format: number;
  scenario: string;
  file: string;
  checkpoint: string;
  afterStep: number;
  afterStepName: string;
  createdAt: string;
  lastUsedAt: string;
  inputs: Inputs;
  accel: string;
  /** The byte that makes the lab's MAC addresses: a restored guest keeps its NICs. */
  labByte: number;
  vars: Record<string, string>;
  nodes: CheckpointNode[];
  services: { discovery: boolean; registry: boolean };
  artifactsDrive: boolean;
  /** Every file, project-relative to the checkpoint folder, with its size and sha256. */
  files: Record<string, { size: number; sha256: string }>;
  size: number;
  /** Seconds it took to save. */
  saveSeconds?: number;
}

/** The store: $CORELAB_CHECKPOINTS, else checkpoints/ in the cache. */
export function checkpointsDir(): string {
  return process.env.CORELAB_CHECKPOINTS || join(cacheDir(), 'checkpoints');
}

export function checkpointDir(key: string): string {
  return join(checkpointsDir(), key);
}

/** Removes the unfinished checkpoints (.tmp-PID-KEY) of corelab processes that are gone. */
export function cleanStaleCheckpoints(): void {
  const dir = checkpointsDir();
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const tmp = e.match(/^\.tmp-(\d+)-/);
    if (tmp && !alive(Number(tmp[1]))) rmSync(join(dir, e), { recursive: true, force: true });
  }
}

/** Every complete checkpoint in the store (unfinished ones of runs that are gone are removed). */
export function listCheckpoints(): CheckpointMeta[] {
  const dir = checkpointsDir();
  if (!existsSync(dir)) return [];
  const out: CheckpointMeta[] = [];
  for (const e of readdirSync(dir)) {
    const tmp = e.match(/^\.tmp-(\d+)-/);
    if (tmp) {
      if (!alive(Number(tmp[1]))) rmSync(join(dir, e), { recursive: true, force: true });
      continue;
    }
    const meta = readMeta(e);
    if (meta) out.push(meta);
  }
  return out;
}

export function readMeta(key: string): CheckpointMeta | undefined {
  try {
    const m = JSON.parse(readFileSync(layout(checkpointDir(key)).meta, 'utf8')) as CheckpointMeta;
    return m.key === key ? m : undefined;
  } catch {
    return undefined;
  }
}

/** A checkpoint that is about to be written: a temp folder in the store, renamed into place when done. */
export function newCheckpointDir(key: string): string {
  const dir = join(checkpointsDir(), `.tmp-${process.pid}-${key}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Digests every file of a finished temp folder, writes its checkpoint.json and puts it in place. */
/** Commits a checkpoint written in `tmp`; `digests` (by path) are of files digested as they were written. */
export async function commitCheckpoint(tmp: string, meta: Omit<CheckpointMeta, 'files' | 'size' | 'format'>, digests: Record<string, string> = {}): Promise<CheckpointMeta> {
  const files: CheckpointMeta['files'] = {};
  for (const f of walk(tmp)) {
    chmodSync(f, 0o600); // memory streams and disk copies: the guests' secrets, for this user only
    files[relative(tmp, f)] = { size: statSync(f).size, sha256: digests[f] ?? (await fileSha256(f)) };
  }
  const full: CheckpointMeta = { ...meta, format: FORMAT, files, size: Object.values(files).reduce((a, f) => a + f.size, 0) };
  writeFileSync(layout(tmp).meta, JSON.stringify(full, null, 2) + '\n', { mode: 0o600 });
  const dest = checkpointDir(meta.key);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  return full;
}

/**
 * Checks a checkpoint before it is restored: every file there with its size and digest, and the
 * image it was saved on still in place. Returns what is wrong, or undefined.
 */
export async function damage(meta: CheckpointMeta): Promise<string | undefined> {
  if (meta.format !== FORMAT) return `it was written in format ${meta.format}, this lab reads ${FORMAT}`;
  const dir = checkpointDir(meta.key);
  const results = await Promise.all(
    Object.entries(meta.files).map(async ([rel, want]) => {
      const f = join(dir, rel);
      if (!existsSync(f)) return `${rel} is missing`;
      const size = statSync(f).size;
      if (size !== want.size) return `${rel} has ${size} bytes, ${want.size} were saved`;
      if ((await fileSha256(f)) !== want.sha256) return `${rel} does not match the digest saved with it`;
      return undefined;
    }),
  );
  const bad = results.find((r) => r !== undefined);
  if (bad) return bad;
  for (const n of meta.nodes.filter((x) => x.hasDisk)) {
    const disk = layout(dir).node(n.name).disk;
    const info = await execa('qemu-img', ['info', '-U', '--output=json', disk], { reject: false });
    if (info.exitCode !== 0) return `${n.name}'s saved disk is not a readable qcow2: ${info.stderr.split('\n')[0]}`;
    const backing = (JSON.parse(info.stdout) as { 'full-backing-filename'?: string })['full-backing-filename'];
    if (backing && !existsSync(backing)) return `the image ${n.name}'s saved disk is made on (${backing}) is gone`;
  }
  return undefined;
}

export function touchCheckpoint(meta: CheckpointMeta): void {
  meta.lastUsedAt = new Date().toISOString();
  writeFileSync(layout(checkpointDir(meta.key)).meta, JSON.stringify(meta, null, 2) + '\n');
}

export function removeCheckpoint(key: string): boolean {
  const dir = checkpointDir(key);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/** The size cap of the store: CORELAB_CHECKPOINT_CAP (e.g. 20G, 500M), 20 GiB by default. */
export function capBytes(value = process.env.CORELAB_CHECKPOINT_CAP): number {
  return parseSize(value ?? '20G');
}

export function parseSize(value: string): number {
  const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i);
  if (!m) throw new LabError(`cannot read size "${value}"`, { fix: 'write it like 20G, 500M or 1.5T' });
  return Math.round(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}

/** Removes least recently used checkpoints until the store fits in cap bytes; never the ones in keep. */
export function pruneCheckpoints(cap: number, keep: string[] = []): CheckpointMeta[] {
  const all = listCheckpoints().sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt));
  let total = all.reduce((a, m) => a + m.size, 0);
  const removed: CheckpointMeta[] = [];
  for (const m of all) {
    if (total <= cap) break;
    if (keep.includes(m.key)) continue;
    removeCheckpoint(m.key);
    total -= m.size;
    removed.push(m);
  }
  return removed;
}

export function walk(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
}

export function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
