import { warn } from '../util/log.js';
import { onExit } from '../util/exit.js';

interface Item {
  what: string;
  undo: () => unknown;
  /** The synchronous last resort, if the process exits before undo ran (e.g. removing a folder). */
  atExit?: () => void;
}

/**
 * A destructor chain (kola's, the NixOS driver's per-item cleanup): each resource is pushed the
 * moment it exists; run() undoes them newest first, tries every one, and logs what failed
 * instead of swallowing it. Until run() has gone through an item, its atExit part is the
 * process's last resort (lab/util/exit.ts). After run() the chain is empty and can be used again.
 */
export class Teardown {
  private items: Item[] = [];
  private offExit?: () => void;

  push(what: string, undo: () => unknown, atExit?: () => void): void {
    this.offExit ??= onExit(() => this.atExit());
    this.items.push({ what, undo, atExit });
  }

  get size(): number {
    return this.items.length;
  }

  /** Undoes everything, newest first. Returns what could not be undone (each already logged). */
  async run(): Promise<string[]> {
    const failed: string[] = [];
    while (this.items.length) {
      const item = this.items.pop()!;
      try {
        await item.undo();
      } catch (err) {
        failed.push(`${item.what}: ${(err as Error).message}`);
        warn(`tear down: could not ${item.what}: ${(err as Error).message}`);
        try {
          item.atExit?.();
        } catch {
          /* said above */
        }
      }
    }
    this.offExit?.();
    this.offExit = undefined;
    return failed;
  }

  private atExit(): void {
    for (const item of [...this.items].reverse()) item.atExit?.();
  }
}
