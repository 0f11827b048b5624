import type { NodeAction } from '../scenario/model.js';
import { log, seconds } from '../util/log.js';
import { Partitions } from './partitions.js';
import type { LabView } from './view.js';
import type { NodeFacts } from './facts.js';

/** What steps do to a lab's nodes: power, the power button, pause, the cable, partitions. */
export class Faults {
  readonly partitions: Partitions;

  constructor(private lab: Omit<LabView, 'whyUnsaveable'>) {
    this.partitions = new Partitions({
      run: (node, command, timeoutMs) => lab.run(node, command, timeoutMs),
      address: (node) => lab.node(node).plan.address,
      running: (node) => lab.node(node).machine.state === 'running',
    });
  }

  async act(action: NodeAction, node: string, signal?: AbortSignal): Promise<string> {
    const n = this.lab.node(node);
    switch (action) {
      case 'poweroff':
        n.guest.close();
        await n.machine.powerOff();
        return `${node} powered off (plug pulled)`;
      case 'poweron':
        await this.powerOn(node, signal);
        return `${node} powered on and answers over SSH`;
      case 'shutdown': {
        n.guest.close();
        const clean = await n.machine.shutdown(120_000);
        return clean ? `${node} shut down cleanly (ACPI power button)` : `${node} did not halt within 120s after the power button; the plug was pulled`;
      }
      case 'pause':
        await n.machine.pause();
        return `${node} paused (its CPUs are stopped)`;
      case 'resume':
        await n.machine.resume();
        return `${node} resumed`;
      case 'linkdown':
        await n.machine.setLink('lan', false);
        return `${node}: eth0's cable pulled (link down on the lab switch)`;
      case 'linkup':
        await n.machine.setLink('lan', true);
        return `${node}: eth0's cable back in`;
    }
  }

  /** Boots a powered-off node again from its own overlay (same disk, same config drive). */
  private async powerOn(node: string, signal?: AbortSignal): Promise<void> {
    const n = this.lab.node(node);
    const t0 = Date.now();
    await n.machine.start();
    this.lab.saveState();
    log(`${node}: powered on, QEMU pid ${n.machine.pid}`);
    const boot: NonNullable<NodeFacts['reboots']>[number] = { startedAt: new Date(t0).toISOString() };
    (n.facts.reboots ??= []).push(boot);
    await this.lab.waitForSsh(n, signal);
    boot.bootMs = Date.now() - t0;
    log(`${node}: SSH is up after ${seconds(boot.bootMs)}`);
    this.lab.profileBoot(n, t0, boot);
    // Running before the next step, so that step's trouble is in the journal after it started.
    await this.lab.journal.start([node]);
  }

  /** Why the lab cannot be saved now (a node paused, a partition in place), or undefined. */
  whyUnsaveable(): string | undefined {
    if ([...this.lab.nodes.values()].some((n) => n.machine.state === 'paused')) return 'a node is paused';
    if (this.partitions.active) return 'a partition is in place';
    return undefined;
  }
}
