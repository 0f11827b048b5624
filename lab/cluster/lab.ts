/**
 * The cluster layer (lab/cluster/): one lab, its resources and what happens to them. It owns the
 * Lab (this file: Lab.create from a Plan, Lab.restore from a checkpoint), the nodes (node.ts), the
 * host services it starts (services.ts), faults (faults.ts: power, link, pause, partitions),
 * saving and restoring checkpoints (checkpoint.ts), the teardown chain (teardown.ts), the lab
 * state other terminals read (state.ts) and the facts the report keeps (facts.ts). It may import
 * checkpoints/, guestconfig/, machine/ and below, never run/ or above.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { labUnits, type GuestUnit } from '../guestconfig/units.js';
import { type CommandResult, loadLabKey, makeLabKey, type LabKey } from '../machine/ssh.js';
import type { ConsoleFinding } from '../machine/console.js';
import type { TcgThreads } from '../machine/accel.js';
import type { BootTemplate } from '../machine/hotplug.js';
import { ensureTemplate, templatesApply } from '../machine/template.js';
import type { CheckpointMeta } from '../checkpoints/store.js';
import { layout } from '../checkpoints/layout.js';
import { checkpointDir } from '../checkpoints/store.js';
import type { NodeAction } from '../scenario/model.js';
import type { Vars } from '../util/template.js';
import { LabError } from '../util/errors.js';
import { liveStatus, log, section, seconds } from '../util/log.js';
import { makeLabDir, removeState, writeState } from './state.js';
import { artifactsDrive, startServices, type HostServices } from './services.js';
import { labCpus, labTcgThreads, makeNode, waitForSsh, type LabNode, type NodeContext } from './node.js';
import { Faults } from './faults.js';
import { JournalWatch } from './journal.js';
import { savedNode, syncClocks } from './checkpoint.js';
import type { Teardown } from './teardown.js';
import { profileBoot, type BootProfile } from './bootprofile.js';
import type { LabFacts } from './facts.js';
import type { Plan } from './plan.js';
import type { LabView } from './view.js';

export interface LabOptions {
  signal?: AbortSignal;
  /** The chain every resource is put on the moment it exists; the caller runs it, whatever happens. */
  teardown: Teardown;
  /** Where the lab writes what the report keeps (phases, per-node boot and memory). */
  facts: LabFacts;
  /** Where consoles are copied when the lab is torn down. */
  reportDir?: string;
}

export class Lab implements LabView {
  readonly dir: string;
  readonly nodes = new Map<string, LabNode>();
  readonly vars: Vars = {};
  readonly faults: Faults;
  readonly journal = new JournalWatch((node, cmd, ms) => this.run(node, cmd, ms));
  key!: LabKey;
  services!: HostServices;
  artifactsDrive?: string;
  /** Makes the nodes' MAC addresses; kept in checkpoints. */
  labByte = 0;
  private units: GuestUnit[] = [];
  /** Boot profiles being read in the background; teardown waits for them (bounded). */
  private profiling = new Set<Promise<void>>();
  private ready = false;
  private readonly startedAt = new Date().toISOString();
  /** One TCG thread mode for every node, chosen once from the whole lab. */
  private readonly tcgThreads: TcgThreads | undefined;

  private constructor(readonly plan: Plan, readonly opts: LabOptions) {
    this.dir = makeLabDir(plan.name || 'lab');
    const dir = this.dir;
    const name = this.name;
    opts.teardown.push('remove the lab folder', () => rmSync(dir, { recursive: true, force: true }), () => rmSync(dir, { recursive: true, force: true }));
    opts.teardown.push('remove the lab state', () => removeState(name), () => removeState(name));
    if (opts.reportDir) opts.teardown.push('copy the consoles into the report', () => this.saveConsoles(opts.reportDir!));
    opts.facts.accel = plan.accel;
    this.faults = new Faults(this);
    this.saveState();
    this.tcgThreads = labTcgThreads(plan);
    const how = this.tcgThreads === 'single' ? ` (${labCpus(plan)} vCPUs on ${availableParallelism()} host cores: each VM's vCPUs take turns on one host thread)` : '';
    log(`lab folder ${this.dir}; accelerator ${plan.accel}${how}`);
  }

  /** A cold start: host services, switch, config drives, and every node booted from its image. */
  static async create(plan: Plan, opts: LabOptions): Promise<Lab> {
    const lab = new Lab(plan, opts);
    lab.key = makeLabKey(join(lab.dir, 'id_ed25519'), `corelab-${plan.name}`);
    for (const n of plan.nodes) Object.assign(lab.vars, { [`nodes.${n.name}.address`]: n.address, [`nodes.${n.name}.name`]: n.name });
    lab.services = await lab.timed('host services', () => startServices(plan, lab.dir, opts.teardown, lab.vars, undefined, opts.signal));
    const added = labUnits(plan.guest.entry, plan.artifacts);
    added.notes.forEach((note) => log(note));
    lab.units = added.units;
    lab.artifactsDrive = await artifactsDrive(plan.artifacts, lab.dir);
    lab.labByte = randomBytes(1)[0];
    for (const n of plan.nodes) await lab.addNode(await makeNode(lab.context(), n));
    await lab.timed('templates', () => lab.useTemplates());
    opts.teardown.push('finish reading boot profiles', () => lab.profilesRead(30_000));
    await lab.timed('boot', () => lab.boot());
    await lab.markReady(plan.nodes.map((n) => n.name));
    return lab;
  }

  /**
   * The lab as a checkpoint saved it. The host services start on copies of their saved data, the
   * switch and host ports are new, each running node resumes from its saved memory on an overlay
   * of its saved disk, and the guests' clocks are set to now.
   */
  static async restore(plan: Plan, meta: CheckpointMeta, opts: LabOptions): Promise<Lab> {
    const lab = new Lab(plan, opts);
    const cp = layout(checkpointDir(meta.key));
    lab.key = loadLabKey(cp.key, join(lab.dir, 'id_ed25519'));
    Object.assign(lab.vars, meta.vars);
    lab.services = await lab.timed('host services', () => startServices(plan, lab.dir, opts.teardown, lab.vars, cp, opts.signal));
    if (meta.artifactsDrive) lab.artifactsDrive = cp.artifactsIso;
    lab.labByte = meta.labByte;
    for (const n of plan.nodes) await lab.addNode(await makeNode(lab.context(), n, savedNode(meta, cp, n.name)));
    await lab.timed('restore', () => lab.resume());
    await lab.markReady();
    return lab;
  }

  /**
   * Nodes that can start from a boot template (machine/template.ts: labos under TCG, config on a
   * drive) get one, made now when the cache has none: one per memory size and vCPU count.
   */
  private async useTemplates(): Promise<void> {
    const made = new Map<string, Promise<BootTemplate>>();
    const nodes = [...this.nodes.values()].filter((n) => !n.machine.spec.fwCfg && templatesApply(n.machine.spec.boot, n.machine.spec.accel));
    const results = await Promise.allSettled(
      nodes.map(async (n) => {
        const s = n.machine.spec;
        const size = `${s.memoryMb}/${s.cpus}`;
        if (!made.has(size)) made.set(size, ensureTemplate({ boot: s.boot, memoryMb: s.memoryMb, cpus: s.cpus, accel: s.accel, tcgThreads: s.tcgThreads }, this.opts.signal));
        s.template = await made.get(size)!;
        n.facts.bootTemplate = s.template.key;
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (nodes.length) log(`${nodes.map((n) => n.plan.name).join(', ')} start from boot template(s) ${[...new Set(nodes.map((n) => n.machine.spec.template!.key))].join(', ')} (CORELAB_BOOT_TEMPLATE=0 boots them instead)`);
  }

  /** The lab's name in the state dir: unique, so two labs of one scenario never collide. */
  get name(): string {
    return basename(this.dir);
  }

  private context(): NodeContext {
    return { plan: this.plan, dir: this.dir, key: this.key, vars: this.vars, labByte: this.labByte, services: this.services, units: this.units, artifactsDrive: this.artifactsDrive, tcgThreads: this.tcgThreads };
  }

  /** Puts a node in the lab, its machine on the teardown chain (powered off, its memory peak kept). */
  private async addNode(n: LabNode): Promise<void> {
    this.nodes.set(n.plan.name, n);
    this.opts.facts.nodes.push(n.facts);
    this.opts.teardown.push(`power off ${n.plan.name}`, async () => {
      n.guest.close();
      await n.machine.powerOff();
      n.facts.maxRssMb = Math.round(n.machine.maxRssKb / 1024);
    });
  }

  /**
   * The lab is up: recorded as ready, with journal watchers on the nodes that have none yet (a
   * restore's), and every watcher begun at boot running before the first step runs (a unit that
   * fails in that step must be in the journal after the watcher's journalctl started).
   */
  private async markReady(watched: string[] = []): Promise<void> {
    this.ready = true;
    this.saveState();
    await this.journal.start(this.runningNodes().filter((n) => !watched.includes(n)));
    await this.journal.started();
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
      nodes: [...this.nodes.values()].map((n) => ({ name: n.plan.name, address: n.plan.address, user: n.guest.user, sshPort: n.sshPort, guestSshPort: n.plan.guestSshPort, qemuPid: n.machine.pid, console: n.machine.consoleLog })),
    });
  }

  private async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await section(phase, fn);
    } finally {
      this.opts.facts.phases[phase] = Date.now() - t0;
    }
  }

  /**
   * Starts every machine and waits until each answers over SSH; a node's journal watcher starts as
   * soon as it answers, while the others still boot (the first read after a step waits for it).
   */
  private async boot(): Promise<void> {
    const nodes = [...this.nodes.values()];
    const startedAt = new Map<LabNode, number>();
    // CORELAB_BOOT_STAGGER_MS: start the nodes that many ms apart (for measuring boot orders; default 0, all at once).
    const stagger = Number(process.env.CORELAB_BOOT_STAGGER_MS ?? 0);
    // Started together (a start from a boot template restores it and hotplugs, a few seconds each);
    // every start settles before a failure is thrown, so teardown finds each QEMU that was started.
    const starts = await Promise.allSettled(
      nodes.map(async (n, i) => {
        if (i > 0 && stagger > 0) await new Promise((r) => setTimeout(r, i * stagger));
        startedAt.set(n, Date.now());
        await n.machine.start();
        const how = n.machine.spec.template ? `, started from boot template ${n.machine.spec.template.key}` : '';
        log(`${n.plan.name}: QEMU pid ${n.machine.pid}, ${n.plan.address} on the lab switch, ssh 127.0.0.1:${n.sshPort} to guest port ${n.plan.guestSshPort}${n.plan.guestSshPort === 22 ? '' : ' (the config\'s sshd.socket)'}, config applied by ${n.plan.agent}${how}`);
      }),
    );
    const failed = starts.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.saveState();
    const t0 = Date.now();
    const waiting = new Set(nodes.map((n) => n.plan.name));
    const ticker = setInterval(() => log(`still booting after ${seconds(Date.now() - t0)}: ${[...waiting].join(', ')}`), 30_000);
    liveStatus(() => `booting ${seconds(Date.now() - t0)}: waiting for SSH on ${[...waiting].join(', ')}`);
    try {
      await Promise.all(
        nodes.map(async (n) => {
          const start = startedAt.get(n) ?? t0;
          n.facts.bootStartedAt = new Date(start).toISOString();
          await waitForSsh(n, this.plan.bootTimeoutMs, this.opts.signal);
          n.facts.bootMs = Date.now() - start;
          waiting.delete(n.plan.name);
          log(`${n.plan.name}: SSH is up after ${seconds(n.facts.bootMs)}`);
          this.journal.begin([n.plan.name]);
        }),
      );
      for (const n of nodes) this.profileBoot(n, startedAt.get(n) ?? t0, n.facts);
    } finally {
      clearInterval(ticker);
      liveStatus(undefined);
    }
  }

  /** Reads where a node's boot went, in the background (bootprofile.ts), into `into.boot`. */
  profileBoot(n: LabNode, startedAt: number, into: { boot?: BootProfile }): void {
    const src = { run: (cmd: string, ms: number) => this.run(n.plan.name, cmd, ms), consoleLog: n.machine.consoleLog, startedAt, running: () => n.machine.state === 'running' };
    const p = profileBoot(src, into).catch(() => undefined);
    this.profiling.add(p);
    void p.finally(() => this.profiling.delete(p));
  }

  private async profilesRead(capMs: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.profiling]), new Promise((r) => setTimeout(r, capMs).unref())]);
  }

  /** Resumes every node the checkpoint saved running; the others stay off until a step powers them on. */
  private async resume(): Promise<void> {
    // Every disk is made now, on the checkpoint as it is, also for nodes that stay off for a while.
    await Promise.all([...this.nodes.values()].map((n) => n.machine.ensureDisk()));
    const running = [...this.nodes.values()].filter((n) => n.machine.spec.incoming);
    const t0 = Date.now();
    await Promise.all(running.map((n) => n.machine.start()));
    this.saveState();
    log(`${running.length} node(s) resumed from their saved memory in ${seconds(Date.now() - t0)}`);
    await Promise.all(
      running.map(async (n) => {
        n.facts.bootStartedAt = new Date(t0).toISOString();
        await n.guest.waitReady({ timeoutMs: 180_000, signal: this.opts.signal, alive: () => n.machine.alive, consoleTail: () => n.machine.consoleTail(15) });
        n.facts.bootMs = Date.now() - t0;
      }),
    );
    await syncClocks(this);
    log(`SSH answers on ${running.map((n) => n.plan.name).join(', ')} after ${seconds(Date.now() - t0)}; guest clocks set`);
  }

  /** The names of the nodes whose QEMU runs (not off, not paused). */
  private runningNodes(): string[] {
    return [...this.nodes.values()].filter((n) => n.machine.state === 'running').map((n) => n.plan.name);
  }

  /** A node by its name, or by its address on the lab segment (as fleetctl and docker print them). */
  node(name: string): LabNode {
    const n = this.nodes.get(name) ?? [...this.nodes.values()].find((x) => x.plan.address === name);
    if (!n) throw new LabError(`no node "${name}" in this lab`, { fix: `nodes: ${[...this.nodes.keys()].join(', ')}` });
    return n;
  }

  run(node: string, command: string, timeoutMs: number): Promise<CommandResult> {
    const n = this.node(node);
    if (n.machine.state !== 'running') {
      return Promise.resolve({ node, command, stdout: '', stderr: '', exitCode: null, durationMs: 0, error: `${node} is ${n.machine.state}` });
    }
    return n.guest.run(command, { timeoutMs, signal: this.opts.signal }).catch((e: Error) => ({ node, command, stdout: '', stderr: '', exitCode: null, durationMs: 0, error: `ssh: ${e.message}` }));
  }

  /** Power and link faults, as steps name them. */
  act(action: NodeAction, node: string, signal?: AbortSignal): Promise<string> {
    return this.faults.act(action, node, signal ?? this.opts.signal);
  }

  partition(groups: string[][]): Promise<string> {
    return this.faults.partitions.partition(groups);
  }

  heal(): Promise<string> {
    return this.faults.partitions.heal();
  }

  whyUnsaveable(): string | undefined {
    return this.faults.whyUnsaveable();
  }

  /**
   * New trouble (panic, oops, emergency shell, failed unit) since the last look: on every node's
   * serial console, and in the journal of every running node (read over SSH).
   */
  async trouble(): Promise<Array<ConsoleFinding & { node: string; where: 'console' | 'journal' }>> {
    const consoles = [...this.nodes.values()].flatMap((n) => n.console.scan().map((f) => ({ ...f, node: n.plan.name, where: 'console' as const })));
    const journals = (await this.journal.read(this.runningNodes())).map((f) => ({ ...f, where: 'journal' as const }));
    return [...consoles, ...journals];
  }

  /** Copies every node's console log into dir/consoles, and the registry's log into dir. */
  private saveConsoles(dir: string): void {
    mkdirSync(join(dir, 'consoles'), { recursive: true });
    const reg = this.services?.registry;
    if (reg && existsSync(reg.logFile)) copyFileSync(reg.logFile, join(dir, 'registry.log'));
    for (const n of this.nodes.values()) {
      if (!existsSync(n.machine.consoleLog)) continue;
      copyFileSync(n.machine.consoleLog, join(dir, 'consoles', `${n.plan.name}.log`));
      n.facts.console = join('consoles', `${n.plan.name}.log`);
    }
  }

  /** Waits for a node's SSH after a power-on, with the boot watchdog. */
  waitForSsh(n: LabNode, signal?: AbortSignal): Promise<void> {
    return waitForSsh(n, this.plan.bootTimeoutMs, signal ?? this.opts.signal);
  }
}
