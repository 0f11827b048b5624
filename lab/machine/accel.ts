import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { warn } from '../util/log.js';
import { cacheDir } from '../util/paths.js';

export type Accel = 'kvm' | 'tcg';

/** How TCG maps a VM's vCPUs to host threads: one thread per vCPU, or one thread for all of them. */
export type TcgThreads = 'multi' | 'single';

/**
 * With more vCPUs in a lab than host cores, each VM's vCPUs share one host thread (QEMU's
 * `thread=single`, round-robin): a vCPU then never spins on a lock or an IPI held by a sibling
 * whose host thread the host has put to sleep, which is what multi-threaded TCG does when six
 * vCPU threads share two cores. Measured here (three 2-vCPU labos nodes on 2 cores, two runs
 * each, alternated): all three answered SSH at 56-62 s with `single` and 66-80 s with `multi`,
 * and QEMU used 117-129 CPU-seconds against 144-161. A lab that fits the host keeps `multi`, so a
 * lone VM can use every core. CORELAB_TCG_THREAD=single|multi overrides.
 */
export function tcgThreads(labCpus: number, hostCores: number = availableParallelism()): TcgThreads {
  const forced = process.env.CORELAB_TCG_THREAD;
  if (forced === 'single' || forced === 'multi') return forced;
  return labCpus > hostCores ? 'single' : 'multi';
}

/** The -accel value for TCG: a 256 MiB translation cache (the default 1 GiB doubled host RSS) and the thread mode. */
export function tcgAccelArg(threads: TcgThreads = 'multi'): string {
  return `tcg,tb-size=256${threads === 'single' ? ',thread=single' : ''}`;
}

/**
 * KVM when /dev/kvm is there and can really run a guest, else TCG with a warning.
 * CORELAB_ACCEL=kvm|tcg overrides. Some hosts (nested virtualization) have a /dev/kvm whose guests
 * die with "KVM internal error"; a probe boot of the image's kernel finds that out once per host
 * kernel and the verdict is kept in the cache.
 */
export async function chooseAccel(kernel: string | undefined): Promise<Accel> {
  const forced = process.env.CORELAB_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    warn('KVM is not available (/dev/kvm missing or not writable): using TCG software emulation; guests boot several times slower');
    return 'tcg';
  }
  const marker = join(cacheDir(), 'kvm-probe.json');
  let verdict: { host: string; ok: boolean; detail: string } | undefined;
  try {
    verdict = JSON.parse(readFileSync(marker, 'utf8'));
    if (verdict?.host !== release()) verdict = undefined;
  } catch {
    verdict = undefined;
  }
  if (!verdict && !kernel) {
    warn('no kernel here to probe KVM with (a disk-booted image and labos not built): using KVM unprobed; CORELAB_ACCEL=tcg if guests die with "KVM internal error"');
    return 'kvm';
  }
  if (!verdict) {
    verdict = { host: release(), ...(await probeKvm(kernel!)) };
    mkdirSync(cacheDir(), { recursive: true });
    writeFileSync(marker, JSON.stringify(verdict) + '\n');
  }
  if (verdict.ok) return 'kvm';
  warn(`/dev/kvm is present but cannot run guests here (${verdict.detail}): using TCG software emulation; delete ${marker} to probe again`);
  return 'tcg';
}

/** Boots the kernel alone under KVM: it must reach its "no root fs" panic and exit (-no-reboot). */
async function probeKvm(kernel: string): Promise<{ ok: boolean; detail: string }> {
  const r = await execa('qemu-system-x86_64', [
    '-accel', 'kvm', '-cpu', 'host', '-m', '256', '-nodefaults', '-display', 'none', '-no-reboot',
    '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 root=/dev/nonexistent',
  ], { reject: false, timeout: 20_000, all: true });
  if (/KVM internal error|emulation failure/.test(r.all ?? '')) return { ok: false, detail: 'KVM internal error: emulation failure' };
  if (r.timedOut) return { ok: false, detail: 'a probe boot under KVM did not finish in 20s' };
  if (r.exitCode !== 0 || !/Kernel panic/.test(r.all ?? '')) return { ok: false, detail: `a probe boot under KVM failed: ${(r.all ?? '').split('\n').slice(-2).join(' ')}` };
  return { ok: true, detail: 'probe boot reached the kernel panic it expects' };
}

let qemuVersionCache: string | undefined;
/** QEMU's version line: a saved VM (checkpoint, boot template) is only good for the QEMU that wrote it. */
export async function qemuVersion(): Promise<string> {
  qemuVersionCache ??= (await execa('qemu-system-x86_64', ['--version'])).stdout.split('\n')[0].trim();
  return qemuVersionCache;
}
