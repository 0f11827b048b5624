import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import getPort from 'get-port';
import { Machine } from '../machine/machine.js';
import { tcgThreads, type TcgThreads } from '../machine/accel.js';
import { nodeMemory } from '../machine/boot.js';
import { BOOT_FATAL, ConsoleWatch, INIT_STARTED, type ConsoleFinding } from '../machine/console.js';
import { GuestChannel, type LabKey } from '../machine/ssh.js';
import { nodeNetArgs, macFor } from '../host/switch.js';
import { guestConfig } from '../guestconfig/guestconfig.js';
import { deliveryFor, writeDelivery, type Delivered } from '../guestconfig/delivery.js';
import type { NodeIdentity } from '../guestconfig/configdrive.js';
import type { GuestUnit } from '../guestconfig/units.js';
import { render, type Vars } from '../util/template.js';
import { log, warn } from '../util/log.js';
import type { HostServices } from './services.js';
import type { NodeFacts } from './facts.js';
import type { Plan, PlannedNode } from './plan.js';

export interface LabNode {
  plan: PlannedNode;
  machine: Machine;
  guest: GuestChannel;
  console: ConsoleWatch;
  /** The host port (127.0.0.1) of its SSH forward; it goes to plan.guestSshPort in the guest. */
  sshPort: number;
  /** What the report says of it (boot time, memory), kept in the lab's facts. */
  facts: NodeFacts;
}

/** What making a node needs from its lab. */
export interface NodeContext {
  plan: Plan;
  dir: string;
  key: LabKey;
  vars: Vars;
  labByte: number;
  services: HostServices;
  units: GuestUnit[];
  artifactsDrive?: string;
  /** The lab's TCG thread mode (labTcgThreads), one for all its nodes; undefined under KVM. */
  tcgThreads?: TcgThreads;
}

/** From a checkpoint: the node's config as delivered, its saved disk and, if it ran, its memory. */
export interface SavedNode {
  delivered: Delivered;
  disk?: string;
  state?: string;
}

/**
 * A node's machine and SSH channel (nothing is started): its config rendered for its image and
 * delivered (config drive or fw_cfg), or the checkpoint's; host ports picked for SSH (forwarded to
 * the guest port the plan found for its sshd) and `ports:`.
 */
export async function makeNode(ctx: NodeContext, n: PlannedNode, saved?: SavedNode): Promise<LabNode> {
  const dir = join(ctx.dir, n.name);
  mkdirSync(dir);
  const lanMac = macFor(ctx.labByte, 0, n.index);
  const hostMac = macFor(ctx.labByte, 1, n.index);
  const { entry, boot, user } = ctx.plan.guest;
  let delivered = saved?.delivered;
  if (!delivered) {
    const nodeVars: Vars = { ...ctx.vars, 'node.name': n.name, 'node.address': n.address, 'node.prefix': String(ctx.plan.prefix), ssh_public_key: ctx.key.publicKey };
    const id: NodeIdentity = { instanceId: randomUUID(), hostname: n.name, sshPublicKey: ctx.key.publicKey, address: n.address, prefix: ctx.plan.prefix, lanMac, hostMac };
    const config = guestConfig(entry, render(n.config, nodeVars), id, ctx.units);
    delivered = await writeDelivery(deliveryFor(entry, config, id, n.drive), dir);
  }
  const { memoryMb, raisedFrom } = nodeMemory(entry, n.memoryMb);
  if (raisedFrom !== undefined && !saved) log(`${n.name}: memory raised from ${raisedFrom} to ${memoryMb} MiB, the minimum of ${entry.name} (images/catalog.yaml)`);
  const sshPort = await getPort({ host: '127.0.0.1' });
  const published = [];
  for (const guestPort of n.ports) {
    const hostPort = await getPort({ host: '127.0.0.1' });
    published.push({ guestPort, hostPort });
    ctx.vars[`nodes.${n.name}.ports.${guestPort}`] = `127.0.0.1:${hostPort}`;
  }
  const forwards = [ctx.services.discovery?.forward, ctx.services.registry?.forward, ctx.services.files?.forward].filter((f) => f !== undefined);
  const machine = new Machine({
    name: n.name,
    dir,
    boot,
    memoryMb,
    cpus: n.cpus,
    accel: ctx.plan.accel,
    tcgThreads: ctx.tcgThreads,
    ...delivered,
    extraDrives: ctx.artifactsDrive ? [ctx.artifactsDrive] : [],
    netArgs: nodeNetArgs(ctx.services.switch, lanMac, hostMac, { hostPort: sshPort, guestPort: n.guestSshPort }, forwards, published),
    backing: saved?.disk,
    incoming: saved?.state,
  });
  const guest = new GuestChannel(n.name, sshPort, user, ctx.key, n.guestSshPort);
  const facts: NodeFacts = { name: n.name, address: n.address, agent: n.agent, guestSshPort: n.guestSshPort, maxRssMb: 0 };
  return { plan: n, machine, guest, sshPort, console: new ConsoleWatch(n.name, machine.consoleLog), facts };
}

/** All the vCPUs a lab's nodes have. */
export function labCpus(plan: Plan): number {
  return plan.nodes.reduce((sum, n) => sum + n.cpus, 0);
}

/** The lab's TCG thread mode: from all its nodes' vCPUs against the host's cores (accel.ts). */
export function labTcgThreads(plan: Plan): TcgThreads | undefined {
  return plan.accel === 'tcg' ? tcgThreads(labCpus(plan)) : undefined;
}

/** How long a booting guest's console may stay silent before the lab presses reset. */
const BOOT_STALL_MS = Number(process.env.CORELAB_BOOT_STALL_SECONDS ?? 120) * 1000;

/**
 * Waits for SSH, watching the console: under TCG a guest now and then hangs early in boot (seen
 * here: silent after "Switched to clocksource hpet"). A console silent for BOOT_STALL_MS before
 * init has started gets the reset button, at most twice, with a log line saying so. Once init runs
 * (and from the start for a guest restored from a boot template or a checkpoint, which is past it;
 * a power-on boots from the kernel again), a quiet console
 * is left to the boot timeout: a reset there can leave the boot's state half-written (seen: a
 * reset during cloud-init's first stage left /var/lib/cloud/data/previous-hostname empty, the next
 * boot's cloud-init failed on it, installed no SSH key, and every login was refused).
 */
export async function waitForSsh(n: LabNode, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  let size = n.machine.consoleSize();
  let quietSince = Date.now();
  let resets = 0;
  let init = new ConsoleWatch(n.plan.name, n.machine.consoleLog, size, INIT_STARTED);
  let pastInit = n.machine.restored;
  const watchdog = setInterval(() => {
    pastInit ||= init.scan().length > 0;
    const now = n.machine.consoleSize();
    if (now !== size) {
      size = now;
      quietSince = Date.now();
      return;
    }
    if (Date.now() - quietSince < BOOT_STALL_MS || resets >= 2 || pastInit || n.machine.state !== 'running') return;
    resets++;
    quietSince = Date.now();
    warn(`${n.plan.name}: no console output for ${BOOT_STALL_MS / 1000}s while booting, before init started; pressing reset (${resets}/2)`);
    init = new ConsoleWatch(n.plan.name, n.machine.consoleLog, now, INIT_STARTED);
    n.machine.reset().catch(() => undefined);
  }, Math.min(5000, Math.max(250, BOOT_STALL_MS / 4)));
  const fatal = bootFatal(n);
  try {
    await n.guest.waitReady({ timeoutMs, signal, alive: () => n.machine.alive, consoleTail: () => n.machine.consoleTail(15), fatal });
  } finally {
    clearInterval(watchdog);
  }
}

/**
 * A check for what a boot does not come back from (kernel panic, an emergency shell, Ignition
 * failing), on the console from where this boot starts. It answers one poll after the first
 * finding, so the lines that follow it (Ignition's own message) are in the error too.
 */
function bootFatal(n: LabNode): () => string | undefined {
  const watch = new ConsoleWatch(n.plan.name, n.machine.consoleLog, n.machine.consoleSize());
  const found: ConsoleFinding[] = [];
  let polls = 0;
  return () => {
    found.push(...watch.scan().filter((f) => BOOT_FATAL.has(f.what)));
    if (!found.length || polls++ < 1) return undefined;
    const lines = [...new Set(found.map((f) => f.line))];
    return `${n.plan.name} failed to boot (${[...new Set(found.map((f) => f.what))].join(', ')}):\n${lines.map((l) => `  ${l}`).join('\n')}\nconsole:\n${found[0].excerpt}`;
  };
}
