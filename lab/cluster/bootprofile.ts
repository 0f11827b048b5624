import { readFileSync } from 'node:fs';
import type { CommandResult } from '../machine/ssh.js';
import { parseAnalyze, parseBlame, parseCloudInitLog, parseConsole, parseUnitTimes, splitSections, type AnalyzeTimes, type CloudInitEvent, type UnitTimes } from './bootparse.js';

/**
 * Where one boot of a node went, read after it answered SSH (never by slowing the boot): the
 * guest's systemd-analyze and unit timestamps, cloud-init's own events, and the kernel's stamps on
 * the serial console. Times named *Ms without "At" are ms since the guest kernel started; add
 * preKernelMs for ms since QEMU started. Whatever could not be read is left out and said in errors.
 */
export interface BootProfile {
  /** QEMU start to the kernel's time 0: host time at the read minus the guest's uptime (± SSH latency). */
  preKernelMs?: number;
  /** Console stamps: kernel done / initramfs starts ("Run /init"), root mounted, systemd starts. */
  initMs?: number;
  rootMs?: number;
  systemdMs?: number;
  /** multi-user.target reached; undefined if not yet at the read. */
  multiUserMs?: number;
  /** ssh.service active. */
  sshdMs?: number;
  /** Guest uptime at the read. */
  readAtMs?: number;
  /**
   * Started from a boot template (machine/template.ts): the guest time at which the node got its
   * release disk. Before it is the template's own boot (kernel, initramfs, systemd up to cloud-init,
   * done once when the template was made), not this node's; preKernelMs is then negative.
   */
  templateAtMs?: number;
  analyze?: AnalyzeTimes;
  /** Longest units to start (systemd-analyze blame), longest first. */
  blame: Array<{ unit: string; ms: number }>;
  criticalChain?: string[];
  /** cloud-init's services on the boot timeline (start and done, ms since kernel start). */
  cloudInit: Array<{ unit: string; startMs: number; endMs: number }>;
  /** cloud-init's own stage and module times (from its log), longest modules first. */
  cloudInitStages: CloudInitEvent[];
  cloudInitModules: CloudInitEvent[];
  errors: string[];
}

/** The line images/labos template-hold prints on the console when a node from a template goes on. */
export const TEMPLATE_RELEASED = /labos-template: released \(release disk found at uptime ([\d.]+) s/;

const UNITS = ['multi-user.target', 'ssh.service', 'sshd.service', 'cloud-init-local.service', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service'];

/**
 * One shell command (one SSH round trip) printing every section the profile reads. After the
 * uptime it waits, idle in systemd, for the boot to finish (blame needs a finished boot; SSH often
 * answers while cloud-init's final stage still runs), then reads at the lowest priority, so the
 * read does not compete with the boot's last units or the scenario's first step. Not in it:
 * `systemd-analyze critical-chain` (7.7 s in a labos guest under TCG; set CORELAB_BOOT_CHAIN=1 to add it).
 */
export const PROFILE_COMMAND = [
  'echo @@uptime; cut -d" " -f1 /proc/uptime',
  'timeout 100 systemctl is-system-running --wait >/dev/null 2>&1',
  'renice -n 19 -p $$ >/dev/null 2>&1',
  'echo @@analyze; systemd-analyze time --no-pager 2>&1',
  'echo @@blame; systemd-analyze blame --no-pager 2>&1 | head -n 12',
  `echo @@units; systemctl show --no-pager -p Id -p InactiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic ${UNITS.join(' ')} 2>&1`,
  "echo @@cloudinit; sudo -n grep -E ' - [a-z_.]+\\[DEBUG\\]: (start|finish): ' /var/log/cloud-init.log 2>&1 | tail -n 300",
  ...(process.env.CORELAB_BOOT_CHAIN === '1' ? ['echo @@chain; systemd-analyze critical-chain --no-pager multi-user.target 2>&1 | head -n 20'] : []),
  'true',
].join('; ');

/** The profile from the command's output, the console log text, and the host's ms since QEMU start at the read. */
export function buildProfile(output: string, consoleText: string, hostElapsedMs?: number): BootProfile {
  const s = splitSections(output);
  const p: BootProfile = { blame: [], cloudInit: [], cloudInitStages: [], cloudInitModules: [], errors: [] };
  const uptime = Number((s.uptime ?? '').trim());
  const released = consoleText.match(TEMPLATE_RELEASED);
  if (released) p.templateAtMs = Math.round(Number(released[1]) * 1000);
  if (s.uptime !== undefined && Number.isFinite(uptime) && uptime > 0) {
    p.readAtMs = Math.round(uptime * 1000);
    // From a template the guest's clock started in the template: its kernel time 0 is before QEMU's start.
    if (hostElapsedMs !== undefined) p.preKernelMs = released ? hostElapsedMs - p.readAtMs : Math.max(0, hostElapsedMs - p.readAtMs);
  } else p.errors.push('no guest uptime');
  const c = parseConsole(consoleText);
  Object.assign(p, { initMs: c.initMs, rootMs: c.rootMs, systemdMs: c.systemdMs });
  if (c.initMs === undefined && !released) p.errors.push('no kernel stamps on the console');
  if (s.analyze !== undefined) p.analyze = parseAnalyze(s.analyze);
  p.blame = parseBlame(s.blame ?? '', 8);
  const units: Record<string, UnitTimes> = parseUnitTimes(s.units ?? '');
  p.multiUserMs = units['multi-user.target']?.activeMs;
  p.sshdMs = (units['ssh.service'] ?? units['sshd.service'])?.activeMs;
  for (const u of UNITS.filter((x) => x.startsWith('cloud-'))) {
    const t = units[u];
    if (t?.startMs !== undefined) p.cloudInit.push({ unit: u, startMs: t.startMs, endMs: t.activeMs ?? p.readAtMs ?? t.startMs });
  }
  const chain = (s.chain ?? '').split('\n').filter((l) => /\S/.test(l) && !/^The time when unit|^The time the unit/.test(l));
  if (chain.length) p.criticalChain = chain.map((l) => l.replace(/\s+$/, '')).slice(0, 16);
  const ci = parseCloudInitLog(s.cloudinit ?? '');
  p.cloudInitStages = ci.stages;
  p.cloudInitModules = ci.modules.slice(0, 8);
  return p;
}

/** What reading a profile needs: the lab's SSH channel and the node's console file. */
export interface ProfileSource {
  run(command: string, timeoutMs: number): Promise<CommandResult>;
  consoleLog: string;
  /** When this boot's QEMU started (host clock, ms). */
  startedAt: number;
}

/** Reads a boot profile; never throws: what failed goes into errors. */
export async function readBootProfile(src: ProfileSource, timeoutMs = 150_000): Promise<BootProfile> {
  const sent = Date.now();
  let out: CommandResult | undefined;
  let failure: string | undefined;
  try {
    out = await src.run(PROFILE_COMMAND, timeoutMs);
    if (out.error) failure = out.error;
  } catch (e) {
    failure = (e as Error).message;
  }
  let consoleText = '';
  try {
    consoleText = readFileSync(src.consoleLog, 'utf8');
  } catch (e) {
    failure ??= `console: ${(e as Error).message}`;
  }
  // The uptime is read first, so the send time is its best host-side estimate.
  const p = buildProfile(out?.stdout ?? '', consoleText, sent - src.startedAt);
  if (failure) p.errors.unshift(failure);
  return p;
}

/**
 * Reads a profile into `into.boot` (the command itself waits for the boot to finish); while
 * systemd still says the boot is not finished (it outlived that wait), reads again a few times,
 * 10 s apart, while the node runs.
 */
export async function profileBoot(src: ProfileSource & { running(): boolean }, into: { boot?: BootProfile }, tries = 4): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 10_000).unref());
    if (!src.running()) return;
    const p = await readBootProfile(src);
    if (p.readAtMs !== undefined || !into.boot) into.boot = p;
    if (p.analyze?.totalMs !== undefined || p.readAtMs === undefined) return;
  }
}
