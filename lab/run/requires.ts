import type { Step } from '../scenario/model.js';
import type { Plan } from '../cluster/plan.js';
import { importHint } from '../images/containerarchive.js';

/**
 * Why a step cannot run in this lab, or undefined: a container image it requires (`requires:
 * [container:REPO:TAG]`) is not imported, so the registry mirror cannot serve it. Only that step
 * is skipped, with the command that imports the image.
 */
export function unmetRequirement(step: Step, plan: Plan): string | undefined {
  const missing = (step.containers ?? []).filter((ref) => !plan.containers?.some((c) => c.ref === ref));
  if (!missing.length) return undefined;
  return `skipped: it needs the container image ${missing.join(', ')}, which is not imported, so the registry mirror cannot serve it; to run it: ${missing.map(importHint).join('; ')}`;
}
