import type { CommandResult } from '../machine/ssh.js';
import type { ConsoleFinding } from '../machine/console.js';
import { warn } from '../util/log.js';

/**
 * Trouble in a node's journal, looked for after each step. Real images (Flatcar puts console=tty0
 * last) send failed units and the emergency shell to the journal, not the serial log the console
 * scan reads, so kola reads the journal too.
 *
 * A watcher on each node follows the journal from the moment the lab is ready (after boot, restore
 * or power-on: what came before is the serial scan's) and keeps only the lines around trouble
 * (grep -B3 -A8, the context an excerpt shows) in a file under /run. The look after a step is one
 * unprivileged read of what that file gained. Reading the journal itself after every step (sudo
 * twice, journalctl over all a step logged, on every node at once) took 1-4 s a step on three busy
 * TCG nodes: ~90 s of a cold swarm run. A line logged in the last moment of a step can reach the
 * file after that step's read: the next step's read finds it. The watcher appends (>>), so emptying
 * the file under it is safe; /run goes with a reboot, and a power-on starts a new watcher.
 *
 * The watcher keeps the journal from the guest's clock as read when the node answered (--since), not
 * from when its journalctl happened to start: the privileged start (sudo, systemd-run through a PID 1
 * still busy with the boot) took up to ~13 s on three booting TCG nodes, and the lab waited for it
 * before the first step. Now it waits only for the clock read (one plain command); a unit that fails
 * while the watcher starts is still in its file, and the first read waits for the start.
 */
const WATCH_FILE = '/run/corelab-trouble.log';
const WATCH_UNIT = 'corelab-journal-watch.service';
// The watcher's own command is in the journal it reads (sudo logs it, systemd names the unit by
// it), and it keeps the journal from before it started: no pattern may match its own text, hence
// [p]anic and [e]mergency, as in ps | grep [p]rocess.
const PATTERNS: Array<{ what: string; re: RegExp }> = [
  { what: 'kernel panic', re: /Kernel [p]anic - not syncing/ },
  { what: 'kernel oops', re: /kernel: .*\b(Oops|BUG|general protection fault)\b: / },
  { what: 'emergency shell', re: /You are in [e]mergency mode|Entering [e]mergency mode|Started emergency\.service/ },
  { what: 'failed unit', re: /systemd\[1\]: Failed to start / },
];

/** The patterns as the watcher's grep -E expression: the same sources (GNU grep reads \b, \[ and \. alike). */
export const GREP = PATTERNS.map((p) => p.re.source).join('|');

/** Prints the guest's clock as journalctl's --since takes it ("@1796541628.911610528"). */
export const CLOCK_COMMAND = 'date +@%s.%N';

/** What CLOCK_COMMAND printed, if it is a time (a date without %N prints it as it is). */
export function parseClock(stdout: string): string | undefined {
  const t = stdout.trim();
  return /^@\d+\.\d+$/.test(t) ? t : undefined;
}

/**
 * Starts the watcher as a transient unit that empties the file and follows the journal from `since`
 * (a clock CLOCK_COMMAND printed; without one, from when journalctl starts), one sudo either way. A
 * watcher that runs already (a guest restored with it) goes on; its file is emptied.
 */
export function watchStartCommand(since?: string): string {
  const from = since ? `--since=${since} -n all` : '-n 0';
  const follow = `: > ${WATCH_FILE}; journalctl -q -f ${from} -o short-monotonic | grep --line-buffered -E -B3 -A8 "${GREP}" >> ${WATCH_FILE}`;
  return `if systemctl is-active -q ${WATCH_UNIT}; then sudo -n sh -c ': > ${WATCH_FILE}'; else sudo -n systemd-run -q --collect --unit=${WATCH_UNIT} sh -c '${follow}'; fi`;
}

/**
 * Prints "SIZE ACTIVE" (the file's size in bytes, -1 if it is gone; 1 if the watcher runs), then the
 * file's bytes from `offset` to SIZE. Whether the watcher runs is systemd's link for the unit's
 * invocation under /run/systemd/units (there while the unit is), not systemctl: a process start costs
 * a busy TCG guest a few hundred ms a step. Without that folder (another init), systemctl is asked.
 */
export function watchReadCommand(offset: number): string {
  const active = `if [ -d /run/systemd/units ]; then [ -L /run/systemd/units/invocation:${WATCH_UNIT} ]; else systemctl is-active -q ${WATCH_UNIT}; fi && a=1`;
  return `f=${WATCH_FILE}; o=${offset}; s=$(stat -c %s $f 2>/dev/null || echo -1); a=0; ${active}; echo "$s $a"; [ "$s" -ge "$o" ] || o=0; [ "$s" -gt "$o" ] && tail -c +$((o + 1)) $f | head -c $((s - o)); true`;
}

/** Findings in journal text, each with a few lines of context (grep's "--" group separators left out). */
export function journalTrouble(text: string): ConsoleFinding[] {
  const lines = text.split('\n').filter((l) => l !== '--');
  const out: ConsoleFinding[] = [];
  lines.forEach((line, i) => {
    const p = PATTERNS.find((x) => x.re.test(line));
    if (p) out.push({ what: p.what, line: line.trim(), excerpt: lines.slice(Math.max(0, i - 3), i + 8).join('\n') });
  });
  return out;
}

type Run = (node: string, command: string, timeoutMs: number) => Promise<CommandResult>;

/**
 * The journal watchers of a lab's nodes, and how far the host has read each one's file. A node
 * whose image cannot start one (no systemd-run or journal: RancherOS) is not read; its serial
 * console still is.
 */
export class JournalWatch {
  private readonly offsets = new Map<string, number>();
  /** Watcher starts begun and not yet answered: a read of the node waits for its start. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Until the watcher keeps what the journal says next: its clock read (or, without one, its start). */
  private readonly keeping = new Map<string, Promise<void>>();

  constructor(private readonly run: Run) {}

  /** Starts watching these nodes' journals from now on: resolves once what they log next is kept. */
  async start(nodes: string[]): Promise<void> {
    await Promise.all(nodes.map((node) => this.startOne(node)));
  }

  /**
   * Starts watching without waiting for the answer (a busy TCG guest takes a few seconds for the
   * sudo and systemd-run), so a node's start overlaps the other nodes' boot. The watcher keeps the
   * journal from the guest's clock read first; the lab awaits started() (those reads) before the
   * first step, and a read of the node waits for its whole start.
   */
  begin(nodes: string[]): void {
    for (const node of nodes) void this.startOne(node);
  }

  /** Resolves when every watcher begun keeps its node's journal from now on (whatever its start answers). */
  async started(): Promise<void> {
    await Promise.all([...this.keeping.values()]);
  }

  /** Resolves when the node's journal is kept from now on; its whole start goes on in `starting`. */
  private startOne(node: string): Promise<void> {
    const clock = this.run(node, CLOCK_COMMAND, 30_000).then((r) => (r.exitCode === 0 ? parseClock(r.stdout) : undefined), () => undefined);
    const p = clock.then((since) => this.run(node, watchStartCommand(since), 30_000)).then(
      (r) => {
        if (r.exitCode === 0) this.offsets.set(node, 0);
        else this.offsets.delete(node);
      },
      () => void this.offsets.delete(node),
    );
    // Without a clock the watcher keeps only what comes after its journalctl starts: wait for that.
    const keeping = clock.then((since) => (since ? undefined : p));
    this.starting.set(node, p);
    this.keeping.set(node, keeping);
    void p.finally(() => this.starting.get(node) === p && this.starting.delete(node));
    void keeping.finally(() => this.keeping.get(node) === keeping && this.keeping.delete(node));
    return keeping;
  }

  /** What the watchers of these nodes kept since the last read, all at once; a node that cannot be read (off, SSH down) is skipped. */
  async read(nodes: string[]): Promise<Array<ConsoleFinding & { node: string }>> {
    await Promise.all(nodes.map((node) => this.starting.get(node)));
    const found = await Promise.all(
      nodes.filter((node) => this.offsets.has(node)).map(async (node) => {
        const r = await this.run(node, watchReadCommand(this.offsets.get(node)!), 30_000);
        if (r.exitCode !== 0) return [];
        const nl = r.stdout.indexOf('\n');
        const [size, active] = (nl < 0 ? r.stdout : r.stdout.slice(0, nl)).trim().split(' ').map(Number);
        if (size >= 0 && active === 1) {
          this.offsets.set(node, size);
        } else {
          warn(`${node}: its journal watcher (${WATCH_UNIT}) is not running; started again, what the journal said in between is not looked at`);
          await this.start([node]);
        }
        return journalTrouble(nl < 0 ? '' : r.stdout.slice(nl + 1)).map((f) => ({ ...f, node }));
      }),
    );
    return found.flat();
  }
}
