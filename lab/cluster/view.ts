import type { CommandResult, LabKey } from '../machine/ssh.js';
import type { Vars } from '../util/template.js';
import type { LabNode } from './node.js';
import type { HostServices } from './services.js';
import type { Plan } from './plan.js';
import type { BootProfile } from './bootprofile.js';
import type { JournalWatch } from './journal.js';

/** What faults and checkpoints need of a lab (the Lab is one); kept apart so they import no Lab. */
export interface LabView {
  readonly plan: Plan;
  readonly nodes: Map<string, LabNode>;
  readonly vars: Vars;
  readonly key: LabKey;
  readonly services: HostServices;
  readonly artifactsDrive?: string;
  readonly labByte: number;
  /** The nodes' journal watchers: started again on a node that is powered on. */
  readonly journal: JournalWatch;
  node(name: string): LabNode;
  run(node: string, command: string, timeoutMs: number): Promise<CommandResult>;
  saveState(): void;
  waitForSsh(n: LabNode, signal?: AbortSignal): Promise<void>;
  /** Reads where a boot went, in the background, into `into.boot` (bootprofile.ts). */
  profileBoot(n: LabNode, startedAt: number, into: { boot?: BootProfile }): void;
  /** Why the lab cannot be saved now (a node paused, a partition in place), or undefined. */
  whyUnsaveable(): string | undefined;
}
