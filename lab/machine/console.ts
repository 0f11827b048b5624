import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Something on a node's serial console that means the guest is in trouble. */
export interface ConsoleFinding {
  what: string;
  line: string;
  excerpt: string;
}

const PATTERNS: Array<{ what: string; re: RegExp }> = [
  { what: 'kernel panic', re: /Kernel panic - not syncing/ },
  { what: 'kernel oops', re: /\b(Oops|BUG|general protection fault)\b: / },
  { what: 'emergency shell', re: /You are in emergency mode|Entering emergency mode/ },
  { what: 'failed unit', re: /\[FAILED\] Failed to start / },
  // labos's initramfs copies Ignition's own error lines to the console ("labos: ignition: ...").
  { what: 'Ignition failure', re: /labos: ignition: |\bIgnition failed: / },
];

/**
 * The console line that says the guest's init (systemd, in the initramfs or on the root) has
 * started: from there on a boot writes its state (cloud-init's, Ignition's), so it is past the
 * point where the reset button is safe (cluster/node.ts waitForSsh).
 */
export const INIT_STARTED: Array<{ what: string; re: RegExp }> = [{ what: 'init started', re: /\bsystemd\[1\]: |^Welcome to / }];

/** What a booting guest does not come back from: the lab fails its boot at once with the excerpt. */
export const BOOT_FATAL = new Set(['kernel panic', 'emergency shell', 'Ignition failure']);

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Reads a console log as it grows and reports the trouble in what is new since the last scan. */
export class ConsoleWatch {
  private offset = 0;
  private tail = '';

  /** from: where to start reading (e.g. the console's size when a boot starts); patterns: what it looks for (trouble, by default). */
  constructor(readonly node: string, readonly file: string, from = 0, private patterns = PATTERNS) {
    this.offset = from;
  }

  scan(): ConsoleFinding[] {
    let text = '';
    try {
      const size = statSync(this.file).size;
      if (size <= this.offset) return [];
      const fd = openSync(this.file, 'r');
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      closeSync(fd);
      this.offset = size;
      text = buf.toString('utf8');
    } catch {
      return [];
    }
    return findTrouble(this.tail + text.replace(ANSI, '').replace(/\r/g, ''), (rest) => (this.tail = rest), this.patterns);
  }
}

/** Findings in console text, each with a few lines of context; keeps an unfinished last line for next time. */
export function findTrouble(text: string, keepTail: (rest: string) => void = () => undefined, patterns = PATTERNS): ConsoleFinding[] {
  const lines = text.split('\n');
  keepTail(lines.pop() ?? '');
  const out: ConsoleFinding[] = [];
  lines.forEach((line, i) => {
    const p = patterns.find((x) => x.re.test(line));
    if (p) out.push({ what: p.what, line: line.trim(), excerpt: lines.slice(Math.max(0, i - 3), i + 8).join('\n') });
  });
  return out;
}
