import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { capBytes, commitCheckpoint, newCheckpointDir, pruneCheckpoints, type CheckpointMeta } from '../checkpoints/store.js';
import type { CheckpointPoint } from '../checkpoints/key.js';
import { layout, type Layout } from '../checkpoints/layout.js';
import type { Delivered } from '../guestconfig/delivery.js';
import { LabError } from '../util/errors.js';
import { onExit } from '../util/exit.js';
import { log, seconds, warn } from '../util/log.js';
import type { SavedNode } from './node.js';
import type { LabView } from './view.js';

/**
 * Saves the lab into the checkpoint store under point.key: each running VM's memory and a copy
 * of its disk (the VM is stopped for that, then runs on), each powered-off node's disk, the host
 * services' data, the SSH key, the variables. A lab that cannot be saved (a node paused, a
 * partition in place) is said so and not saved; saving never fails the run.
 */
export async function saveCheckpoint(lab: LabView, point: CheckpointPoint, stepName: string): Promise<CheckpointMeta | undefined> {
  const why = lab.whyUnsaveable();
  if (why) {
    warn(`checkpoint "${point.name}" not saved: ${why} (the lab can only save running or powered-off nodes on a whole network)`);
    return undefined;
  }
  const t0 = Date.now();
  const tmp = newCheckpointDir(point.key);
  const offExit = onExit(() => rmSync(tmp, { recursive: true, force: true }));
  try {
    const cp = layout(tmp);
    const digests = await saveFiles(lab, cp);
    const now = new Date().toISOString();
    const nodes = [...lab.nodes.values()];
    const committing = commitCheckpoint(tmp, {
      key: point.key,
      scenario: lab.plan.name,
      file: lab.plan.file,
      checkpoint: point.name,
      afterStep: point.afterStep,
      afterStepName: stepName,
      createdAt: now,
      lastUsedAt: now,
      inputs: point.inputs,
      accel: lab.plan.accel,
      labByte: lab.labByte,
      vars: { ...lab.vars },
      nodes: nodes.map((n) => ({ name: n.plan.name, state: n.machine.state === 'running' ? 'running' : 'off', hasDisk: existsSync(cp.node(n.plan.name).disk), fwCfgName: n.machine.spec.fwCfg?.name })),
      services: { discovery: !!lab.services.discovery, registry: !!lab.services.registry },
      artifactsDrive: !!lab.artifactsDrive,
      saveSeconds: (Date.now() - t0) / 1000,
    }, digests);
    // The guests were stopped for the save and their clocks stood still: set them while the host
    // digests the rest and commits (the memory streams were digested as they were written).
    const [meta] = await Promise.all([committing, syncClocks(lab)]);
    log(`checkpoint "${point.name}" saved in ${seconds(Date.now() - t0)}: ${Math.round(meta.size / 1024 ** 2)} MB, key ${meta.key}`);
    for (const m of pruneCheckpoints(capBytes(), [meta.key])) log(`checkpoint store over its cap: removed ${m.scenario}/${m.checkpoint} (${m.key}, last used ${m.lastUsedAt})`);
    return meta;
  } catch (err) {
    warn(`checkpoint "${point.name}" not saved: ${(err as Error).message}`);
    return undefined;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    offExit();
  }
}

/** Writes the checkpoint's files; returns the digests of those digested as they were written (memory streams, by path). */
async function saveFiles(lab: LabView, cp: Layout): Promise<Record<string, string>> {
  const nodes = [...lab.nodes.values()];
  copyFileSync(lab.key.privateKeyFile, cp.key);
  copyFileSync(`${lab.key.privateKeyFile}.pub`, cp.keyPub);
  for (const n of nodes) {
    const f = cp.node(n.plan.name);
    mkdirSync(f.dir, { recursive: true });
    const { configDrive, fwCfg } = n.machine.spec;
    if (configDrive) copyFileSync(configDrive, f.configIso);
    if (fwCfg) copyFileSync(fwCfg.file, f.ignition);
  }
  const running = nodes.filter((n) => n.machine.state === 'running');
  const sums = await Promise.all(running.map((n) => n.machine.saveTo(cp.node(n.plan.name).state, cp.node(n.plan.name).disk)));
  for (const n of nodes) if (n.machine.state === 'off' && existsSync(n.machine.overlay)) copyFileSync(n.machine.overlay, cp.node(n.plan.name).disk);
  lab.services.discovery?.snapshotTo(cp.discovery);
  lab.services.registry?.snapshotTo(cp.registry);
  if (lab.artifactsDrive) copyFileSync(lab.artifactsDrive, cp.artifactsIso);
  return Object.fromEntries(running.map((n, i) => [cp.node(n.plan.name).state, sums[i]]));
}

/** What a restored node is made from: its delivered config, its saved disk and, if it ran, its memory. */
export function savedNode(meta: CheckpointMeta, cp: Layout, name: string): SavedNode {
  const saved = meta.nodes.find((x) => x.name === name);
  if (!saved) throw new LabError(`checkpoint ${meta.key} has no node ${name}`, { fix: 'remove it (corelab checkpoints rm) and run cold' });
  const f = cp.node(name);
  const delivered: Delivered = {
    configDrive: existsSync(f.configIso) ? f.configIso : undefined,
    fwCfg: saved.fwCfgName ? { name: saved.fwCfgName, file: f.ignition } : undefined,
  };
  return { delivered, disk: saved.hasDisk ? f.disk : undefined, state: saved.state === 'running' ? f.state : undefined };
}

/** Sets every running guest's clock to the host's: a saved guest wakes up at the time it was saved. */
export async function syncClocks(lab: LabView): Promise<void> {
  await Promise.all(
    [...lab.nodes.values()]
      .filter((n) => n.machine.state === 'running')
      .map(async (n) => {
        const r = await lab.run(n.plan.name, `sudo -n date -u -s @${(Date.now() / 1000).toFixed(3)} >/dev/null`, 30_000);
        if (r.exitCode !== 0) warn(`${n.plan.name}: could not set the guest clock: ${r.stderr.trim() || r.error}`);
      }),
  );
}
