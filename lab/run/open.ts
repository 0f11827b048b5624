import { which } from '../host/tools.js';
import { checkpointPoints, labVersion, qemuVersion, whyNoMatch, type CheckpointPoint } from '../checkpoints/key.js';
import { damage, readMeta, removeCheckpoint, touchCheckpoint, type CheckpointMeta } from '../checkpoints/store.js';
import { Lab, type LabOptions } from '../cluster/lab.js';
import type { Plan } from '../cluster/plan.js';
import { formatError } from '../util/errors.js';
import { log, section, warn } from '../util/log.js';
import type { CheckpointReport } from './results.js';

/** A lab ready for its steps: fresh, or restored from a checkpoint (and then from which one). */
export interface Opened {
  lab: Lab;
  /** The scenario's checkpoints with their keys for this lab (none without zstd). */
  points: CheckpointPoint[];
  restored?: CheckpointMeta;
}

/**
 * Opens the lab: restored from the furthest checkpoint that matches, else cold (saying why in one
 * line, in `report`). A restore that fails is torn down, its checkpoint removed, and the run goes
 * cold. Every resource is on opts.teardown, which the caller runs whatever happens.
 */
export async function openLab(plan: Plan, report: CheckpointReport, opts: LabOptions & { cold?: boolean }): Promise<Opened> {
  const points = await pointsOf(plan, report);
  if (opts.cold && points.length) log(`checkpoint: --cold, so every step runs; ${points.map((p) => `"${p.name}"`).join(', ')} will be saved again`);
  const pick = opts.cold ? undefined : await pickCheckpoint(plan, points);
  if (pick?.meta) {
    const meta = pick.meta;
    try {
      const lab = await section(`restore checkpoint "${meta.checkpoint}" (after step ${meta.afterStep + 1}, saved ${meta.createdAt})`, () => Lab.restore(plan, meta, opts));
      touchCheckpoint(meta);
      Object.assign(report, { restored: meta.checkpoint, key: meta.key });
      return { lab, points, restored: meta };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      report.coldReason = `checkpoint "${meta.checkpoint}" could not be restored (${formatError(err).split('\n')[0]}); removed it; running cold`;
      log(report.coldReason);
      removeCheckpoint(meta.key);
      await opts.teardown.run();
      opts.facts.nodes.length = 0;
    }
  } else if (pick?.reason) {
    report.coldReason = pick.reason;
    log(`checkpoint: ${pick.reason}; running cold`);
  }
  return { lab: await Lab.create(plan, opts), points };
}

async function pointsOf(plan: Plan, report: CheckpointReport): Promise<CheckpointPoint[]> {
  if (!plan.steps.some((s) => s.checkpoint)) return [];
  if (!which('zstd')) {
    report.coldReason = 'checkpoints need zstd, which is not installed (sudo apt-get install -y zstd)';
    warn(`${report.coldReason}: running every step, saving nothing`);
    return [];
  }
  const artifacts = Object.fromEntries(plan.artifacts.map((a) => [a.spec.name, a.sha256]));
  return checkpointPoints(plan, { imageKey: plan.guest.key, accel: plan.accel, qemu: await qemuVersion(), lab: labVersion(), artifacts });
}

/**
 * The furthest checkpoint with a saved, undamaged match; else why there is none (one line).
 * A damaged checkpoint is removed (this run will save it again).
 */
async function pickCheckpoint(plan: Plan, points: CheckpointPoint[]): Promise<{ meta?: CheckpointMeta; reason?: string } | undefined> {
  if (!points.length) return undefined;
  for (const p of [...points].reverse()) {
    const meta = readMeta(p.key);
    if (!meta) continue;
    const bad = await damage(meta);
    if (!bad) return { meta };
    removeCheckpoint(meta.key);
    return { reason: `checkpoint "${p.name}" (${p.key}) is damaged: ${bad}; removed it` };
  }
  return { reason: whyNoMatch(points[points.length - 1], plan) };
}
