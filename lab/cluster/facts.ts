import type { Accel } from '../machine/accel.js';
import type { NodeAgent } from '../guestconfig/nodeconfig.js';
import type { BootProfile } from './bootprofile.js';

/** What the report says of one node: filled in by the lab as it boots and tears down. */
export interface NodeFacts {
  name: string;
  address: string;
  /** Who applied its config in the guest (the plan decided it from the config and the image). */
  agent: NodeAgent;
  /** The guest port the lab's SSH forward goes to: where the config's sshd.socket listens, else 22. */
  guestSshPort: number;
  bootStartedAt?: string;
  /** Time from QEMU start to the first command over SSH. */
  bootMs?: number;
  /** The boot template it started from (machine/template.ts), instead of booting its image from the kernel on. */
  bootTemplate?: string;
  maxRssMb: number;
  /** Where the first boot went (bootprofile.ts), read after SSH answered; absent for a restored node. */
  boot?: BootProfile;
  /** Later boots: each power-on, when it started, its time to SSH and its profile. */
  reboots?: Array<{ startedAt: string; bootMs?: number; boot?: BootProfile }>;
  /** The node's console log, relative to the report folder, once copied there. */
  console?: string;
}

/**
 * Facts about a lab that outlive it: the runner hands a record to Lab.create/restore and reads it
 * for the report, also when setting up failed half-way and the lab was torn down.
 */
export interface LabFacts {
  accel?: Accel;
  /** Milliseconds per phase: image, host services, templates, boot, restore. */
  phases: Record<string, number>;
  nodes: NodeFacts[];
}

export function newFacts(): LabFacts {
  return { phases: {}, nodes: [] };
}
