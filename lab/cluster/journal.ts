import type { CommandResult } from '../machine/ssh.js';
import type { ConsoleFinding } from '../machine/console.js';

/**
 * Trouble in a node's journal, read over SSH after each step since the last read. Real images
 * (Flatcar puts console=tty0 last) send failed units and the emergency shell to the journal, not
 * the serial log the console scan reads, so kola reads the journal too. The cursor lives in /run:
 * a reboot (power-on) starts a new one, whose boot the serial scan covers.
 */
const CURSOR = '/run/corelab-journal.cursor';
const PATTERNS: Array<{ what: string; re: RegExp }> = [
  { what: 'kernel panic', re: /Kernel panic - not syncing/ },
  { what: 'kernel oops', re: /kernel: .*\b(Oops|BUG|general protection fault)\b: / },
  { what: 'emergency shell', re: /You are in emergency mode|Entering emergency mode|Started emergency\.service/ },
  { what: 'failed unit', re: /systemd\[1\]: Failed to start / },
];

/** Starts a node's journal cursor at its newest entry: what came before is the serial scan's. */
export function journalStartCommand(): string {
  return `sudo -n journalctl -q -n 1 --cursor-file=${CURSOR} >/dev/null 2>&1; true`;
}

/** The command that prints the journal since the last read (nothing the first time, or after a reboot). */
export function journalCommand(): string {
  return `if ! sudo -n test -s ${CURSOR}; then ${journalStartCommand()}; exit 0; fi; sudo -n journalctl -q -o short-monotonic --no-pager --cursor-file=${CURSOR} 2>/dev/null | tail -n 5000`;
}

/** Findings in journal text, each with a few lines of context. */
export function journalTrouble(text: string): ConsoleFinding[] {
  const lines = text.split('\n');
  const out: ConsoleFinding[] = [];
  lines.forEach((line, i) => {
    const p = PATTERNS.find((x) => x.re.test(line));
    if (p) out.push({ what: p.what, line: line.trim(), excerpt: lines.slice(Math.max(0, i - 3), i + 8).join('\n') });
  });
  return out;
}

/** Reads every running node's journal at once; a node that cannot be read (off, SSH down) is skipped. */
export async function readJournals(nodes: string[], run: (node: string, command: string, timeoutMs: number) => Promise<CommandResult>): Promise<Array<ConsoleFinding & { node: string }>> {
  const found = await Promise.all(
    nodes.map(async (node) => {
      const r = await run(node, journalCommand(), 30_000);
      return r.exitCode === 0 ? journalTrouble(r.stdout).map((f) => ({ ...f, node })) : [];
    }),
  );
  return found.flat();
}

/** Starts the journal cursor on every running node of a lab (after boot, restore or power-on). */
export async function startJournals(lab: { nodes: Map<string, { machine: { state: string } }>; run(node: string, command: string, timeoutMs: number): Promise<CommandResult> }, only?: string): Promise<void> {
  const names = [...lab.nodes.entries()].filter(([name, n]) => n.machine.state === 'running' && (!only || only === name)).map(([name]) => name);
  await Promise.all(names.map((name) => lab.run(name, journalStartCommand(), 30_000)));
}
