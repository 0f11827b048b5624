import { mkdtempSync, mkdirSync, rmSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import type { ResolvedArtifact } from '../images/artifacts.js';
import { guestArtifacts, prepareGuestImage, type GuestImage } from '../run/plan.js';
import { labUnits, type GuestUnit } from '../guestconfig/units.js';
import { guestConfig } from '../guestconfig/guestconfig.js';
import { deliveryFor, writeDelivery, type Delivered } from '../guestconfig/delivery.js';
import { nodeMemory } from '../machine/boot.js';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { removeState, writeState } from './state.js';
import { ConsoleWatch, type ConsoleFinding } from '../machine/console.js';
import { Partitions } from './partitions.js';
import { randomBytes, randomUUID } from 'node:crypto';
import getPort from 'get-port';
import type { Plan, NodePlan, NodeAction } from '../scenario/loader.js';
import { Machine, chooseAccel, type Accel } from '../machine/machine.js';
import { Switch, nodeNetArgs, macFor } from '../host/switch.js';
import { DiscoveryService } from '../host/discovery.js';
import { Registry } from '../host/registry.js';
import { ensureNginxImage } from '../images/containerimage.js';
import { GuestChannel, loadLabKey, makeLabKey, type CommandResult, type LabKey } from '../machine/ssh.js';
import { capBytes, checkpointDir, commitCheckpoint, newCheckpointDir, pruneCheckpoints, type CheckpointMeta, type CheckpointPoint } from '../checkpoints/store.js';
import { buildIso, type NodeIdentity } from '../guestconfig/configdrive.js';
import { requireTools, RUN_TOOLS } from '../host/tools.js';
import { render, type Vars } from '../util/template.js';
import { LabError } from '../util/errors.js';
import { killAllDaemons } from '../host/proc.js';
import { liveStatus, log, section, seconds, warn } from '../util/log.js';
import type { StepTarget } from '../run/steps.js';

/** Lab folders not yet torn down: removed on process exit, whatever ended the process. */
const liveLabDirs = new Set<string>();
process.on('exit', () => {
  killAllDaemons();
  for (const d of liveLabDirs) {
    rmSync(d, { recursive: true, force: true });
    removeState(basename(d));
  }
});

/** How long a booting guest's console may stay silent before the lab presses reset. */
const BOOT_STALL_MS = Number(process.env.CORELAB_BOOT_STALL_SECONDS ?? 120) * 1000;

export interface LabNode {
  plan: NodePlan;
  machine: Machine;
  guest: GuestChannel;
  console: ConsoleWatch;
  sshPort: number;
  /** Time from QEMU start to the first command over SSH. */
  bootMs?: number;
}

export interface LabOptions {
  signal?: AbortSignal;
  accel?: Accel;
  /** Artifacts to hand every node on a drive labelled "artifacts". */
  artifacts?: ResolvedArtifact[];
  /** Boot a downloaded image even if it was imported without a checkable digest (--allow-unverified). */
  allowUnverified?: boolean;
}

/**
 * The lab resources of one scenario run: a temp folder, an SSH key, host services, the switch and
 * one machine per node. Everything set up is torn down by tearDown(), also after a failed setUp().
 */
export class Lab implements StepTarget {
  readonly dir: string;
  readonly nodes = new Map<string, LabNode>();
  readonly vars: Vars = {};
  readonly phases: Record<string, number> = {};
  accel?: Accel;
  private image?: GuestImage;
  /** Units added to every node's config for an image without them (lab/guestunits.ts). */
  private addedUnits: GuestUnit[] = [];
  private key?: LabKey;
  private discovery?: DiscoveryService;
  private registry?: Registry;
  private artifactsDrive?: string;
  private switch?: Switch;
  /** Makes the nodes' MAC addresses; kept in checkpoints. */
  private labByte?: number;
  private torn = false;
  /** When the machines were started, for the report's timeline. */
  bootStartedAt?: string;
  private partitions = new Partitions({
    run: (node, command, timeoutMs) => this.run(node, command, timeoutMs),
    address: (node) => this.node(node).plan.address,
    running: (node) => this.node(node).machine.state === 'running',
  });
  private ready = false;
  private readonly startedAt = new Date().toISOString();

  constructor(readonly plan: Plan, private opts: LabOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), `corelab-${plan.name || 'lab'}-`));
    liveLabDirs.add(this.dir);
    this.saveState();
  }

  /** The lab's name in the state dir: unique, so two labs of one scenario never collide. */
  get name(): string {
    return basename(this.dir);
  }

  /** Records the lab in the state dir, so another terminal (status, ssh, down) and a later run find it. */
  saveState(error?: string): void {
    writeState({
      name: this.name,
      scenario: this.plan.name,
      ownerPid: process.pid,
      dir: this.dir,
      keyFile: join(this.dir, 'id_ed25519'),
      ready: this.ready,
      error,
      startedAt: this.startedAt,
      nodes: [...this.nodes.values()].map((n) => ({
        name: n.plan.name,
        address: n.plan.address,
        user: n.guest.user,
        sshPort: n.sshPort,
        qemuPid: n.machine.pid,
        console: n.machine.consoleLog,
      })),
    });
  }

  private async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await section(phase, fn);
    } finally {
      this.phases[phase] = Date.now() - t0;
    }
  }

  /** The image and the accelerator: what the lab needs before it is set up or restored. */
  async prepare(): Promise<void> {
    if (this.image) return;
    requireTools(RUN_TOOLS, 'running a scenario');
    this.image = await this.timed('image', () => prepareGuestImage(this.plan, { signal: this.opts.signal, allowUnverified: this.opts.allowUnverified }));
    this.accel = this.opts.accel ?? (await chooseAccel(this.image.probeKernel));
    log(`lab folder ${this.dir}; accelerator ${this.accel}`);
  }

  /** What identifies the image the nodes boot (its recipe hash or digest), for checkpoint keys. */
  get imageKey(): string {
    if (!this.image) throw new LabError('the lab is not prepared');
    return this.image.key;
  }

  /** A cold start: host services, switch, config drives, and every node booted from its image. */
  async setUp(): Promise<void> {
    const plan = this.plan;
    await this.prepare();
    this.key = makeLabKey(join(this.dir, 'id_ed25519'), `corelab-${plan.name}`);
    for (const n of plan.nodes) Object.assign(this.vars, { [`nodes.${n.name}.address`]: n.address, [`nodes.${n.name}.name`]: n.name });
    await this.timed('host services', async () => {
      if (plan.discovery) {
        this.discovery = await DiscoveryService.start(this.dir);
        this.vars['discovery.endpoint'] = this.discovery.guestUrl;
        this.vars['discovery.url'] = await this.discovery.newToken(plan.discovery.size);
        log(`discovery: etcd on 127.0.0.1:${this.discovery.etcdPort}, guests use ${this.vars['discovery.url']}`);
      }
      if (plan.registry) {
        this.registry = await Registry.start(this.dir);
        for (const image of plan.registry.images) {
          const oci = await ensureNginxImage({ signal: this.opts.signal });
          await this.registry.seed(oci, `library/${image}`, 'latest');
        }
        this.vars['registry.url'] = this.registry.guestUrl;
        this.vars['registry.host'] = new URL(this.registry.guestUrl).host;
        log(`registry mirror on 127.0.0.1:${this.registry.port} with ${plan.registry.images.join(', ')}; guests use ${this.registry.guestUrl}`);
      }
      this.switch = await Switch.start(this.dir);
    });
    const artifacts = await guestArtifacts(plan, this.opts.artifacts);
    const added = labUnits(this.image!.entry, artifacts);
    added.notes.forEach((note) => log(note));
    this.addedUnits = added.units;
    if (artifacts.length) {
      // One read-only ISO for every node, labelled "artifacts": labos installs its bin/ into /opt/bin.
      const files: Record<string, string | Buffer> = {};
      for (const a of artifacts) for (const [name, path] of Object.entries(a.binaries)) files[`bin/${name}`] = readFileSync(path);
      this.artifactsDrive = join(this.dir, 'artifacts.iso');
      await buildIso(this.artifactsDrive, 'artifacts', files);
      log(`artifacts drive: ${artifacts.map((a) => `${a.spec.name} ${a.version ?? a.spec.version} from ${a.source}`).join(', ')}`);
    }
    this.labByte = randomBytes(1)[0];
    for (const n of plan.nodes) await this.addNode(n);
    await this.timed('boot', () => this.boot());
    this.ready = true;
    this.saveState();
  }

  /**
   * Instead of setUp(): the lab as a checkpoint saved it. The host services start on copies of their
   * saved data, the switch and host ports are new, each running node resumes from its saved memory
   * on an overlay of its saved disk, and the guests' clocks are set to now.
   */
  async restore(meta: CheckpointMeta): Promise<void> {
    await this.prepare();
    const cp = checkpointDir(meta.key);
    this.key = loadLabKey(join(cp, 'id_ed25519'), join(this.dir, 'id_ed25519'));
    Object.assign(this.vars, meta.vars);
    await this.timed('host services', async () => {
      if (meta.services.discovery) {
        this.discovery = await DiscoveryService.start(this.dir, join(cp, 'discovery'));
        log(`discovery: etcd on 127.0.0.1:${this.discovery.etcdPort} with the checkpoint's data`);
      }
      if (meta.services.registry) {
        this.registry = await Registry.start(this.dir, join(cp, 'registry'));
        log(`registry mirror on 127.0.0.1:${this.registry.port} with the checkpoint's storage`);
      }
      this.switch = await Switch.start(this.dir);
    });
    if (meta.artifactsDrive) this.artifactsDrive = join(cp, 'artifacts.iso');
    this.labByte = meta.labByte;
    for (const n of this.plan.nodes) {
      const saved = meta.nodes.find((x) => x.name === n.name);
      if (!saved) throw new LabError(`checkpoint ${meta.key} has no node ${n.name}`);
      const d = join(cp, 'nodes', n.name);
      const delivered: Delivered = {
        configDrive: existsSync(join(d, 'config.iso')) ? join(d, 'config.iso') : undefined,
        fwCfg: saved.fwCfgName ? { name: saved.fwCfgName, file: join(d, 'ignition.json') } : undefined,
      };
      await this.addNode(n, { delivered, disk: saved.hasDisk ? join(d, 'disk.qcow2') : undefined, state: saved.state === 'running' ? join(d, 'state.zst') : undefined });
    }
    await this.timed('restore', async () => {
      // Every disk is made now, on the checkpoint as it is, also for nodes that stay off for a while.
      await Promise.all([...this.nodes.values()].map((n) => n.machine.ensureDisk()));
      const running = [...this.nodes.values()].filter((n) => n.machine.spec.incoming);
      const t0 = Date.now();
      this.bootStartedAt = new Date(t0).toISOString();
      await Promise.all(running.map((n) => n.machine.start()));
      this.saveState();
      log(`${running.length} node(s) resumed from their saved memory in ${seconds(Date.now() - t0)}`);
      await Promise.all(
        running.map(async (n) => {
          await n.guest.waitReady({ timeoutMs: 180_000, signal: this.opts.signal, alive: () => n.machine.alive, consoleTail: () => n.machine.consoleTail(15) });
          n.bootMs = Date.now() - t0;
        }),
      );
      await this.syncClocks();
      log(`SSH answers on ${running.map((n) => n.plan.name).join(', ')} after ${seconds(Date.now() - t0)}; guest clocks set`);
    });
    this.ready = true;
    this.saveState();
  }

  /**
   * Saves the lab into the checkpoint store under point.key: each running VM's memory and a copy
   * of its disk (the VM is stopped for that, then runs on), each powered-off node's disk, the host
   * services' data, the SSH key, the variables. A lab that cannot be saved (a node paused, a
   * partition in place) is said so and not saved; saving never fails the run.
   */
  async saveCheckpoint(point: CheckpointPoint, stepName: string): Promise<CheckpointMeta | undefined> {
    const nodes = [...this.nodes.values()];
    const why = nodes.find((n) => n.machine.state === 'paused') ? 'a node is paused' : this.partitions.active ? 'a partition is in place' : undefined;
    if (why) {
      warn(`checkpoint "${point.name}" not saved: ${why} (the lab can only save running or powered-off nodes on a whole network)`);
      return undefined;
    }
    const t0 = Date.now();
    const tmp = newCheckpointDir(point.key);
    liveLabDirs.add(tmp);
    try {
      copyFileSync(this.key!.privateKeyFile, join(tmp, 'id_ed25519'));
      copyFileSync(`${this.key!.privateKeyFile}.pub`, join(tmp, 'id_ed25519.pub'));
      for (const n of nodes) {
        const d = join(tmp, 'nodes', n.plan.name);
        mkdirSync(d, { recursive: true });
        const { configDrive, fwCfg } = n.machine.spec;
        if (configDrive) copyFileSync(configDrive, join(d, 'config.iso'));
        if (fwCfg) copyFileSync(fwCfg.file, join(d, 'ignition.json'));
      }
      await Promise.all(nodes.filter((n) => n.machine.state === 'running').map((n) => n.machine.saveTo(join(tmp, 'nodes', n.plan.name, 'state.zst'), join(tmp, 'nodes', n.plan.name, 'disk.qcow2'))));
      await this.syncClocks();
      for (const n of nodes) {
        if (n.machine.state === 'off' && existsSync(n.machine.overlay)) copyFileSync(n.machine.overlay, join(tmp, 'nodes', n.plan.name, 'disk.qcow2'));
      }
      this.discovery?.snapshotTo(join(tmp, 'discovery'));
      this.registry?.snapshotTo(join(tmp, 'registry'));
      if (this.artifactsDrive) copyFileSync(this.artifactsDrive, join(tmp, 'artifacts.iso'));
      const now = new Date().toISOString();
      const meta = await commitCheckpoint(tmp, {
        key: point.key,
        scenario: this.plan.name,
        file: this.plan.file,
        checkpoint: point.name,
        afterStep: point.afterStep,
        afterStepName: stepName,
        createdAt: now,
        lastUsedAt: now,
        inputs: point.inputs,
        accel: this.accel!,
        labByte: this.labByte!,
        vars: { ...this.vars },
        nodes: nodes.map((n) => ({ name: n.plan.name, state: n.machine.state === 'running' ? 'running' : 'off', hasDisk: existsSync(join(tmp, 'nodes', n.plan.name, 'disk.qcow2')), fwCfgName: n.machine.spec.fwCfg?.name })),
        services: { discovery: !!this.discovery, registry: !!this.registry },
        artifactsDrive: !!this.artifactsDrive,
        saveSeconds: (Date.now() - t0) / 1000,
      });
      log(`checkpoint "${point.name}" saved in ${seconds(Date.now() - t0)}: ${Math.round(meta.size / 1024 ** 2)} MB, key ${meta.key}`);
      for (const m of pruneCheckpoints(capBytes(), [meta.key])) log(`checkpoint store over its cap: removed ${m.scenario}/${m.checkpoint} (${m.key}, last used ${m.lastUsedAt})`);
      return meta;
    } catch (err) {
      warn(`checkpoint "${point.name}" not saved: ${(err as Error).message}`);
      return undefined;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      liveLabDirs.delete(tmp);
    }
  }

  /** Sets every running guest's clock to the host's: a saved guest wakes up at the time it was saved. */
  async syncClocks(): Promise<void> {
    await Promise.all(
      [...this.nodes.values()]
        .filter((n) => n.machine.state === 'running')
        .map(async (n) => {
          const r = await this.run(n.plan.name, `sudo -n date -u -s @${(Date.now() / 1000).toFixed(3)} >/dev/null`, 30_000);
          if (r.exitCode !== 0) warn(`${n.plan.name}: could not set the guest clock: ${r.stderr.trim() || r.error}`);
        }),
    );
  }

  /** A node's machine and channel; from a checkpoint, on its saved config drive, disk and memory. */
  private async addNode(n: NodePlan, saved?: { delivered: Delivered; disk?: string; state?: string }): Promise<void> {
    const dir = join(this.dir, n.name);
    mkdirSync(dir);
    const lanMac = macFor(this.labByte!, 0, n.index);
    const hostMac = macFor(this.labByte!, 1, n.index);
    const { entry, boot, user } = this.image!;
    let delivered = saved?.delivered;
    if (!delivered) {
      const nodeVars: Vars = { ...this.vars, 'node.name': n.name, 'node.address': n.address, 'node.prefix': String(this.plan.prefix), ssh_public_key: this.key!.publicKey };
      const id: NodeIdentity = { instanceId: randomUUID(), hostname: n.name, sshPublicKey: this.key!.publicKey, address: n.address, prefix: this.plan.prefix, lanMac, hostMac };
      const config = guestConfig(entry, render(n.config, nodeVars), id, this.addedUnits);
      delivered = await writeDelivery(deliveryFor(entry, config, id, n.drive), dir);
    }
    const { memoryMb, raisedFrom } = nodeMemory(entry, n.memoryMb);
    if (raisedFrom !== undefined && !saved) log(`${n.name}: memory raised from ${raisedFrom} to ${memoryMb} MiB, the minimum of ${entry.name} (images/catalog.yaml)`);
    const sshPort = await getPort({ host: '127.0.0.1' });
    const published = [];
    for (const guestPort of n.ports) {
      const hostPort = await getPort({ host: '127.0.0.1' });
      published.push({ guestPort, hostPort });
      this.vars[`nodes.${n.name}.ports.${guestPort}`] = `127.0.0.1:${hostPort}`;
    }
    const forwards = [this.discovery?.forward, this.registry?.forward].filter((f) => f !== undefined);
    const machine = new Machine({
      name: n.name,
      dir,
      boot,
      memoryMb,
      cpus: n.cpus,
      accel: this.accel!,
      ...delivered,
      extraDrives: this.artifactsDrive ? [this.artifactsDrive] : [],
      netArgs: nodeNetArgs(this.switch!, lanMac, hostMac, sshPort, forwards, published),
      backing: saved?.disk,
      incoming: saved?.state,
    });
    const guest = new GuestChannel(n.name, sshPort, user, this.key!);
    this.nodes.set(n.name, { plan: n, machine, guest, sshPort, console: new ConsoleWatch(n.name, machine.consoleLog) });
  }

  /** Starts every machine at once and waits until each answers over SSH. */
  private async boot(): Promise<void> {
    const nodes = [...this.nodes.values()];
    for (const n of nodes) {
      await n.machine.start();
      log(`${n.plan.name}: QEMU pid ${n.machine.pid}, ${n.plan.address} on the lab switch, ssh 127.0.0.1:${n.sshPort}`);
    }
    this.saveState();
    const t0 = Date.now();
    this.bootStartedAt = new Date(t0).toISOString();
    const waiting = new Set(nodes.map((n) => n.plan.name));
    const ticker = setInterval(() => log(`still booting after ${seconds(Date.now() - t0)}: ${[...waiting].join(', ')}`), 30_000);
    liveStatus(() => `booting ${seconds(Date.now() - t0)}: waiting for SSH on ${[...waiting].join(', ')}`);
    try {
      await this.waitAll(nodes, t0, waiting);
    } finally {
      clearInterval(ticker);
      liveStatus(undefined);
    }
  }

  private async waitAll(nodes: LabNode[], t0: number, waiting: Set<string>): Promise<void> {
    await Promise.all(
      nodes.map(async (n) => {
        await this.waitForSsh(n);
        n.bootMs = Date.now() - t0;
        waiting.delete(n.plan.name);
        log(`${n.plan.name}: SSH is up after ${seconds(n.bootMs)}`);
      }),
    );
  }

  /**
   * Waits for SSH, watching the console: under TCG a guest now and then hangs early in boot (seen
   * here: silent after "Switched to clocksource hpet"). A console silent for BOOT_STALL_MS before SSH
   * answers gets the reset button, at most twice, with a log line saying so.
   */
  private async waitForSsh(n: LabNode, signal = this.opts.signal): Promise<void> {
    let size = n.machine.consoleSize();
    let quietSince = Date.now();
    let resets = 0;
    const watchdog = setInterval(() => {
      const now = n.machine.consoleSize();
      if (now !== size) {
        size = now;
        quietSince = Date.now();
        return;
      }
      if (Date.now() - quietSince < BOOT_STALL_MS || resets >= 2 || n.machine.state !== 'running') return;
      resets++;
      quietSince = Date.now();
      warn(`${n.plan.name}: no console output for ${BOOT_STALL_MS / 1000}s while booting; pressing reset (${resets}/2)`);
      n.machine.reset().catch(() => undefined);
    }, Math.min(5000, Math.max(250, BOOT_STALL_MS / 4)));
    try {
      await n.guest.waitReady({
        timeoutMs: this.plan.bootTimeoutMs,
        signal,
        alive: () => n.machine.alive,
        consoleTail: () => n.machine.consoleTail(15),
      });
    } finally {
      clearInterval(watchdog);
    }
  }

  /** A node by its name, or by its address on the lab segment (as fleetctl and docker print them). */
  node(name: string): LabNode {
    const n = this.nodes.get(name) ?? [...this.nodes.values()].find((x) => x.plan.address === name);
    if (!n) throw new LabError(`no node "${name}" in this lab`);
    return n;
  }

  run(node: string, command: string, timeoutMs: number): Promise<CommandResult> {
    const n = this.node(node);
    if (n.machine.state !== 'running') {
      return Promise.resolve({ node, command, stdout: '', stderr: '', exitCode: null, durationMs: 0, error: `${node} is ${n.machine.state}` });
    }
    return n.guest.run(command, { timeoutMs }).catch((e: Error) => ({ node, command, stdout: '', stderr: '', exitCode: null, durationMs: 0, error: `ssh: ${e.message}` }));
  }

  async powerOff(node: string): Promise<void> {
    const n = this.node(node);
    n.guest.close();
    await n.machine.powerOff();
  }

  /** Power and link faults, as steps name them. */
  async act(action: NodeAction, node: string, signal?: AbortSignal): Promise<string> {
    const n = this.node(node);
    switch (action) {
      case 'poweroff':
        await this.powerOff(node);
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

  partition(groups: string[][]): Promise<string> {
    return this.partitions.partition(groups);
  }

  heal(): Promise<string> {
    return this.partitions.heal();
  }

  /** New trouble on any node's console (panic, oops, emergency shell, failed unit) since the last look. */
  consoleTrouble(): Array<ConsoleFinding & { node: string }> {
    return [...this.nodes.values()].flatMap((n) => n.console.scan().map((f) => ({ ...f, node: n.plan.name })));
  }

  /** Boots a powered-off node again from its own overlay (same disk, same config drive). */
  async powerOn(node: string, signal?: AbortSignal): Promise<void> {
    const n = this.node(node);
    const t0 = Date.now();
    await n.machine.start();
    this.saveState();
    log(`${node}: powered on, QEMU pid ${n.machine.pid}`);
    await this.waitForSsh(n, signal ?? this.opts.signal);
    log(`${node}: SSH is up after ${seconds(Date.now() - t0)}`);
  }

  /** Copies every node's console log into dir/consoles, and the host services' logs into dir. */
  saveConsoles(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    mkdirSync(join(dir, 'consoles'), { recursive: true });
    if (this.registry && existsSync(this.registry.logFile)) copyFileSync(this.registry.logFile, join(dir, 'registry.log'));
    for (const n of this.nodes.values()) {
      if (!existsSync(n.machine.consoleLog)) continue;
      const dest = join(dir, 'consoles', `${n.plan.name}.log`);
      copyFileSync(n.machine.consoleLog, dest);
      out[n.plan.name] = join('consoles', `${n.plan.name}.log`);
    }
    return out;
  }

  async tearDown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    for (const n of this.nodes.values()) n.guest.close();
    await Promise.all([...this.nodes.values()].map((n) => n.machine.powerOff().catch(() => undefined)));
    await this.discovery?.stop().catch(() => undefined);
    await this.registry?.stop().catch(() => undefined);
    await this.switch?.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
    liveLabDirs.delete(this.dir);
    removeState(this.name);
  }
}
