/**
 * Pure parsers for what a booted guest says about its boot: systemd-analyze's summary and blame,
 * systemctl's unit timestamps, cloud-init's start/finish events, and the kernel's `[  12.3456]`
 * stamps on the serial console. No I/O; bootprofile.ts reads the texts and test/bootparse.test.ts
 * checks these on outputs captured from a real labos VM (test/fixtures/captured/boot-*).
 */

/** systemd-analyze's "Startup finished in ..." line, in ms; `note` when it said something else. */
export interface AnalyzeTimes {
  firmwareMs?: number;
  loaderMs?: number;
  kernelMs?: number;
  initrdMs?: number;
  userspaceMs?: number;
  totalMs?: number;
  /** "multi-user.target reached after 12.3s in userspace" (or graphical.target). */
  target?: { name: string; userspaceMs: number };
  note?: string;
}

/** A systemd time span ("1min 2.345s", "345ms", "2.1s", "1h 2min") in milliseconds. */
export function parseSpan(text: string): number | undefined {
  const units: Record<string, number> = { h: 3_600_000, min: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001 };
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)\s*(h|min|ms|us|µs|s)\b/g)];
  if (parts.length === 0) return undefined;
  return Math.round(parts.reduce((sum, m) => sum + Number(m[1]) * units[m[2]], 0));
}

export function parseAnalyze(text: string): AnalyzeTimes {
  const out: AnalyzeTimes = {};
  const line = text.split('\n').find((l) => l.startsWith('Startup finished in '));
  if (!line) {
    const first = text.split('\n').find((l) => l.trim());
    return { note: first?.trim().slice(0, 200) ?? 'no output' };
  }
  const keys: Record<string, keyof AnalyzeTimes> = { firmware: 'firmwareMs', loader: 'loaderMs', kernel: 'kernelMs', initrd: 'initrdMs', userspace: 'userspaceMs' };
  for (const m of line.matchAll(/((?:\d+(?:\.\d+)?(?:h|min|ms|us|µs|s)\s*)+)\((\w+)\)/g)) {
    const key = keys[m[2]];
    if (key) (out as Record<string, number>)[key] = parseSpan(m[1])!;
  }
  const total = /=\s*(.+)$/.exec(line);
  if (total) out.totalMs = parseSpan(total[1]);
  const reached = /^(\S+\.target) reached after (.+) in userspace/m.exec(text);
  if (reached) out.target = { name: reached[1], userspaceMs: parseSpan(reached[2])! };
  return out;
}

/** `systemd-analyze blame`: the units that took longest to start, longest first. */
export function parseBlame(text: string, top = 8): Array<{ unit: string; ms: number }> {
  const out: Array<{ unit: string; ms: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^\s*((?:\d+(?:\.\d+)?(?:h|min|ms|us|µs|s)\s+)+)(\S+)\s*$/.exec(line);
    if (m) out.push({ unit: m[2], ms: parseSpan(m[1])! });
  }
  return out.sort((a, b) => b.ms - a.ms).slice(0, top);
}

/** `systemctl show -p Id -p ...Monotonic`: per unit, when it started and became active (ms since boot). */
export interface UnitTimes {
  startMs?: number;
  activeMs?: number;
}

export function parseUnitTimes(text: string): Record<string, UnitTimes> {
  const out: Record<string, UnitTimes> = {};
  for (const block of text.split(/\n\s*\n/)) {
    const props = Object.fromEntries(block.split('\n').map((l) => l.trim().split(/=(.*)/s).slice(0, 2)).filter((kv) => kv.length === 2));
    if (!props.Id) continue;
    const ms = (v?: string) => (v && /^\d+$/.test(v) && v !== '0' ? Math.round(Number(v) / 1000) : undefined);
    out[props.Id] = { startMs: ms(props.InactiveExitTimestampMonotonic), activeMs: ms(props.ActiveEnterTimestampMonotonic) };
  }
  return out;
}

/** cloud-init's reporting events in /var/log/cloud-init.log: stages and their modules, in ms. */
export interface CloudInitEvent {
  name: string;
  ms: number;
  result?: string;
  fromFirstEvent?: boolean;
}

/**
 * A stage's own "start:" line is often written before cloud-init's log file is set up; such a stage
 * is timed from its first logged event to its "finish:" (a lower bound, marked `fromFirstEvent`).
 */
export function parseCloudInitLog(text: string): { stages: CloudInitEvent[]; modules: CloudInitEvent[] } {
  const open = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  const stages: CloudInitEvent[] = [];
  const modules: CloudInitEvent[] = [];
  const re = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) - \S+\[DEBUG\]: (start|finish): ([^:\s]+): ?(\w+)?/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const t = Date.parse(`${m[1].replace(' ', 'T')}.${m[2]}Z`);
    const name = m[4];
    const stage = name.split('/')[0];
    if (!firstSeen.has(stage)) firstSeen.set(stage, t);
    if (m[3] === 'start') {
      open.set(name, t);
      continue;
    }
    const started = open.get(name);
    const t0 = started ?? (name.includes('/') ? undefined : firstSeen.get(name));
    if (t0 === undefined) continue;
    open.delete(name);
    const ev: CloudInitEvent = { name, ms: t - t0, result: m[5], ...(started === undefined ? { fromFirstEvent: true } : {}) };
    (name.includes('/') ? modules : stages).push(ev);
  }
  return { stages, modules: modules.sort((a, b) => b.ms - a.ms) };
}

/** Kernel-stamped milestones of the last boot on a serial console, in ms since the kernel started. */
export interface ConsoleMarks {
  /** The kernel's first line ("Linux version"), normally 0. */
  kernelMs?: number;
  /** "Run /init as init process": the kernel is done, the initramfs starts. */
  initMs?: number;
  /** The root file system mounted ("EXT4-fs (vda): mounted"). */
  rootMs?: number;
  /** systemd starts ("systemd[1]: systemd NNN running in system mode"). */
  systemdMs?: number;
  /** The last kernel-stamped line. */
  lastMs?: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function parseConsole(text: string): ConsoleMarks {
  const lines = text.replace(ANSI, '').replace(/\r/g, '').split('\n');
  let start = -1;
  lines.forEach((l, i) => {
    if (/\] Linux version /.test(l)) start = i;
  });
  if (start < 0) return {};
  const out: ConsoleMarks = {};
  const marks: Array<[keyof ConsoleMarks, RegExp]> = [
    ['kernelMs', /\] Linux version /],
    ['initMs', /\] Run \S+ as init process/],
    ['rootMs', /\] EXT4-fs \(\w+\): mounted filesystem/],
    ['systemdMs', /\] systemd\[1\]: systemd \S+ running in system mode/],
  ];
  for (const l of lines.slice(start)) {
    const m = /^\[\s*(\d+\.\d+)\]/.exec(l);
    if (!m) continue;
    const ms = Math.round(Number(m[1]) * 1000);
    out.lastMs = ms;
    for (const [key, re] of marks) if (out[key] === undefined && re.test(l)) out[key] = ms;
  }
  return out;
}

/** Splits one command's output into the sections it marked with lines "@@name". */
export function splitSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^@@(\w[\w-]*)$/.exec(line.trim());
    if (m) {
      name = m[1];
      out[name] = '';
    } else if (name) out[name] += `${line}\n`;
  }
  return out;
}
