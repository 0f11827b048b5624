import type { CommandResult } from '../machine/ssh.js';
import { LabError } from '../util/errors.js';

/** What partitions need of a lab: run a command on a node, a node's lab address, whether it runs. */
export interface PartitionHost {
  run(node: string, command: string, timeoutMs: number): Promise<CommandResult>;
  address(node: string): string;
  running(node: string): boolean;
}

const MARK = 'corelab-partition';

/**
 * Network partitions between groups of nodes: each node drops packets to and from the lab addresses
 * of the nodes outside its group (iptables in the guest, marked so heal() removes only these rules).
 */
export class Partitions {
  private cut = new Set<string>();

  constructor(private host: PartitionHost) {}

  /** Whether some node still drops lab traffic. */
  get active(): boolean {
    return this.cut.size > 0;
  }

  async partition(groups: string[][]): Promise<string> {
    for (const group of groups) {
      const others = groups.filter((g) => g !== group).flat().map((n) => this.host.address(n));
      for (const node of group) {
        const rules = others.flatMap((a) => [`INPUT -s ${a}`, `OUTPUT -d ${a}`]);
        const r = await this.host.run(node, rules.map((rule) => `sudo iptables -I ${rule} -j DROP -m comment --comment ${MARK}`).join(' && '), 60_000);
        if (r.exitCode !== 0) throw new LabError(`could not partition ${node}: ${r.error ?? r.stderr}`);
        this.cut.add(node);
      }
    }
    return `partitioned: ${groups.map((g) => `[${g.join(', ')}]`).join(' | ')}`;
  }

  /** Removes the partition rules from every node that is running (a powered-off one lost them anyway). */
  async heal(): Promise<string> {
    const healed: string[] = [];
    for (const node of this.cut) {
      if (!this.host.running(node)) continue;
      const r = await this.host.run(node, `sudo sh -c 'iptables-save | grep -v -- "--comment ${MARK}" | iptables-restore'`, 60_000);
      if (r.exitCode !== 0) throw new LabError(`could not heal the partition on ${node}: ${r.error ?? r.stderr}`);
      healed.push(node);
    }
    this.cut.clear();
    return healed.length ? `partition healed on ${healed.join(', ')}` : 'no partition to heal';
  }
}
