/**
 * The machine layer (lab/machine/): one QEMU guest. The Machine (this file: start, power, pause,
 * link, save and load its state), its command line per image (boot.ts), the accelerator and the
 * KVM probe (accel.ts), QMP (qmp.ts), the SSH channel (ssh.ts), the console scan (console.ts) and
 * the save pipe (savepipe.ts).
 * It imports images/, download/, host/ and below.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import { Daemon } from '../host/proc.js';
import { Qmp } from './qmp.js';
import { LabError } from '../util/errors.js';
import { qemuOpt } from '../util/qemuopt.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { readTail, shellQuote } from '../util/text.js';
import { bootArgs, diskCreateArgs, pciAddr, SLOT, type BootSpec } from './boot.js';
import { saveCommand, waitForDigest } from './savepipe.js';
import { releaseData, splitHotplug, type BootTemplate } from './hotplug.js';

import { tcgAccelArg, type Accel, type TcgThreads } from './accel.js';

export interface MachineSpec {
  name: string;
  /** The node's own folder: overlay, console log, QMP socket, QEMU log. */
  dir: string;
  /** How it boots (lab/boot.ts): kernel or disk, and what its own disk is. */
  boot: BootSpec;
  memoryMb: number;
  cpus: number;
  accel: Accel;
  /** Under TCG: one host thread per vCPU (default) or one for the whole VM (accel.ts). */
  tcgThreads?: TcgThreads;
  /** The config drive ISO the guest reads its config from (absent when it comes by fw_cfg). */
  configDrive?: string;
  /** An Ignition config handed over through fw_cfg. */
  fwCfg?: { name: string; file: string };
  /** More read-only drives (e.g. the artifacts ISO). */
  extraDrives?: string[];
  /** QEMU -netdev/-device arguments from the network module. */
  netArgs: string[];
  /** The disk the overlay is made on: the image's, or a checkpoint's saved disk. */
  backing?: string;
  /** A checkpoint's saved memory (zstd migration stream): the first start resumes it instead of booting. */
  incoming?: string;
  /**
   * A boot template of this image and size (template.ts): the first start restores it, hotplugs the
   * node's NICs and drives and hands it the release disk, instead of booting (not with incoming).
   */
  template?: BootTemplate;
  /** This VM is a boot template being made (template.ts): no release disk, no NICs. */
  makingTemplate?: boolean;
}

export type PowerState = 'off' | 'running' | 'paused';

/** One QEMU process for one node, on its own qcow2 overlay, driven through QMP. */
export class Machine {
  private daemon?: Daemon;
  private qmp?: Qmp;
  private rssTimer?: NodeJS.Timeout;
  /** Highest resident memory of the QEMU process seen, in KiB. */
  maxRssKb = 0;
  state: PowerState = 'off';
  readonly overlay: string;
  readonly consoleLog: string;
  readonly qemuLog: string;
  readonly qmpSocket: string;

  constructor(readonly spec: MachineSpec) {
    this.overlay = join(spec.dir, 'disk.qcow2');
    this.consoleLog = join(spec.dir, 'console.log');
    this.qemuLog = join(spec.dir, 'qemu.log');
    this.qmpSocket = join(spec.dir, 'qmp.sock');
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.daemon?.running ? this.daemon.pid : undefined;
  }

  /** The release disk (labos images, the ones with a plain initramfs): read by a VM started from a boot template. */
  get releaseDisk(): string | undefined {
    return this.spec.boot.kernel?.plainInitrd && !this.spec.makingTemplate ? join(this.spec.dir, 'release.img') : undefined;
  }

  /**
   * QEMU's command line. Restoring a boot template it holds the template's devices only (rng and
   * the node's disk, the template's kernel command line) plus the backends of the others, whose
   * devices start() then hotplugs (fromTemplate).
   */
  qemuArgs(): string[] {
    const s = this.spec;
    const tpl = this.fromTemplate ? s.template : undefined;
    const devices = this.deviceArgs(tpl?.cmdline);
    return [
      'qemu-system-x86_64',
      '-name', qemuOpt(s.name),
      '-machine', s.boot.machine ?? 'pc',
      ...(s.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', tcgAccelArg(s.tcgThreads)]),
      '-m', String(s.memoryMb),
      '-smp', String(s.cpus),
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-chardev', `file,id=console,path=${qemuOpt(this.consoleLog)},append=on`,
      '-serial', 'chardev:console',
      ...(tpl ? splitHotplug(devices).args : devices),
      '-qmp', `unix:${qemuOpt(this.qmpSocket)},server=on,wait=off`,
      ...(this.resuming || tpl ? ['-incoming', 'defer'] : []),
    ];
  }

  /** Kernel, drives, rng and NICs, each device in its fixed slot (cmdline: a template's, when restoring one). */
  private deviceArgs(cmdline?: string): string[] {
    const s = this.spec;
    return [
      ...bootArgs(s.boot, { overlay: this.overlay, configDrive: s.configDrive, extraDrives: s.extraDrives, fwCfg: s.fwCfg }, { release: this.releaseDisk, cmdline }),
      '-device', `virtio-rng-pci,addr=${pciAddr(SLOT.rng)}`,
      ...s.netArgs,
    ];
  }

  /** True until the first start of a machine made from a checkpoint's memory. */
  private get resuming(): boolean {
    return !!this.spec.incoming && !this.resumed;
  }
  /** True until the first start of a machine started from a boot template. */
  get fromTemplate(): boolean {
    return !!this.spec.template && !this.spec.incoming && !this.resumed;
  }
  private resumed = false;
  private fromSaved = false;
  /** Whether this run of the machine began from saved memory (a boot template, a checkpoint): its guest is past init. */
  get restored(): boolean {
    return this.fromSaved;
  }

  /** Boots the node: creates its overlay on first start, keeps it on a power-on after a power-off. */
  async start(): Promise<void> {
    if (this.state !== 'off') throw new LabError(`${this.name} is already ${this.state}`);
    await this.ensureDisk();
    const release = this.releaseDisk;
    if (release) writeFileSync(release, Buffer.alloc(4096));
    const tpl = this.fromTemplate ? this.spec.template : undefined;
    this.daemon = Daemon.start(`qemu ${this.name}`, this.qemuArgs(), this.qemuLog);
    this.qmp = await this.connectQmp();
    this.state = 'running';
    this.rssTimer = setInterval(() => this.sampleRss(), 2000);
    this.rssTimer.unref();
    const saved = tpl?.state ?? (this.resuming ? this.spec.incoming : undefined);
    this.fromSaved = !!saved;
    if (saved) {
      try {
        await this.loadState(saved);
        if (tpl) await this.hotplug(release!);
      } catch (err) {
        await this.powerOff();
        throw err;
      }
      this.resumed = true;
    }
  }

  /**
   * After a boot template is in: the node's NICs and drives go in by hotplug, in their fixed slots,
   * then the release disk (this node's clock, machine id and randomness), which lets the guest go on
   * (images/labos template-hold).
   */
  private async hotplug(release: string): Promise<void> {
    const devices = splitHotplug(this.deviceArgs()).devices;
    const last = devices.pop()!; // the release disk
    for (const d of devices) await this.qmp!.execute('device_add', d);
    writeFileSync(release, releaseData({ time: Date.now() / 1000, machineId: randomBytes(16).toString('hex'), seed: randomBytes(64).toString('hex'), pci: [...devices, last].map((d) => d.addr) }));
    await this.qmp!.execute('device_add', last);
  }

  private async connectQmp(): Promise<Qmp> {
    return waitUntil(`QEMU for ${this.name} to open its QMP socket (see ${this.qemuLog})`, async () => {
      if (!this.daemon!.running) {
        const out = readTail(this.qemuLog, 20);
        const fix = /host forwarding rule|Address already in use/.test(out)
          ? 'a host port the lab picked is taken (often a leftover QEMU); stop it and run again'
          : /kvm/i.test(out)
            ? 'KVM failed; run with CORELAB_ACCEL=tcg to use software emulation'
            : undefined;
        throw new LabError(`QEMU for ${this.name} exited at start (code ${this.daemon!.exitCode}):\n${out}`, { fix });
      }
      if (existsSync(this.qmpSocket)) {
        try {
          return await Qmp.connect(this.qmpSocket);
        } catch {
          /* not listening yet */
        }
      }
      throw new NotYet('no QMP socket yet');
    }, { timeoutMs: 15_000, intervalMs: 100 });
  }

  /** Creates the node's disk if it has none yet: an overlay on its checkpoint's saved disk, else on the image (or a blank disk). */
  async ensureDisk(): Promise<void> {
    if (existsSync(this.overlay)) return;
    if (this.fromTemplate) return void copyFileSync(this.spec.template!.disk, this.overlay);
    const args = this.spec.backing ? ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', this.spec.backing, this.overlay] : diskCreateArgs(this.spec.boot, this.overlay);
    const r = await execa('qemu-img', args, { reject: false, all: true });
    if (r.exitCode !== 0) throw new LabError(`${this.name}'s disk could not be made: ${(r.all ?? '').trim().split('\n').join('; ')}`, { fix: 'check the image file (corelab images verify NAME), or pull or import it again' });
  }

  /** Reads a saved memory stream into the waiting (-incoming defer) QEMU; the guest runs on when it is in. */
  private async loadState(file: string): Promise<void> {
    await this.qmp!.execute('migrate-incoming', { uri: `exec:zstd -dcq ${shellQuote(file)}` });
    // A stream zstd cannot read leaves QEMU waiting in "inmigrate" for good; zstd's complaint (and
    // QEMU's own) lands in the QEMU log, so that is watched too. A good load takes seconds here.
    await waitUntil(`QEMU for ${this.name} to load its checkpoint`, async () => {
      if (!this.daemon!.running) throw new LabError(`QEMU for ${this.name} exited while loading its checkpoint: ${readTail(this.qemuLog, 5)}`);
      const complaint = readTail(this.qemuLog, 20).match(/^(zstd: .*|.*load of migration failed.*)$/m)?.[1];
      if (complaint) throw new LabError(`${this.name}'s saved memory could not be loaded: ${complaint.trim()}`);
      const st = await this.qmp!.execute<{ status: string }>('query-status').catch(() => ({ status: 'gone' }));
      if (st.status === 'running') return;
      if (st.status === 'paused' || st.status === 'postmigrate') return void (await this.qmp!.execute('cont'));
      throw new NotYet(`status ${st.status}`);
    }, { timeoutMs: 90_000, intervalMs: 200 });
  }

  /**
   * Saves the guest's memory and devices as a zstd-compressed migration stream, and a consistent
   * copy of its disk overlay; the guest is stopped while this happens and runs on afterwards.
   * Returns the sha256 of the stream file, digested as it was written.
   * (Measured here: ~125 MB per 1 GiB guest, restored in seconds; savevm wrote ~0.5 GB into the
   * overlay, which every restore would then have to copy.)
   */
  async saveTo(stateFile: string, diskCopy: string): Promise<string> {
    if (this.state !== 'running') throw new LabError(`cannot save ${this.name}: it is ${this.state}`);
    const qmp = this.qmp!;
    const sum = `${stateFile}.sha256`;
    await qmp.execute('stop');
    try {
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 8 * 1024 ** 3 });
      await qmp.execute('migrate', { uri: `exec:${saveCommand(stateFile, sum)}` });
      await waitUntil(`saving ${this.name}`, async () => {
        const m = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
        if (m.status === 'completed') return;
        if (m.status === 'failed' || m.status === 'cancelled') throw new LabError(`saving ${this.name} failed: ${m['error-desc'] ?? m.status}`);
        throw new NotYet(`migration ${m.status ?? 'not started'}`);
      }, { timeoutMs: 300_000, intervalMs: 100 });
      // The migration flushed and let go of the disk: the overlay is consistent now.
      copyFileSync(this.overlay, diskCopy);
    } finally {
      await qmp.execute('cont');
    }
    // The guest runs on while the pipe writes its last block and its digest.
    return waitForDigest(sum, `saving ${this.name}`);
  }

  /** True while the QEMU process is alive (a crashed or powered-off guest is not). */
  get alive(): boolean {
    return !!this.daemon?.running;
  }

  /** Pulls the plug: QEMU stops at once, the guest gets no chance to shut down. */
  async powerOff(): Promise<void> {
    if (this.state === 'off') return;
    try {
      await this.qmp?.execute('quit');
    } catch {
      /* QEMU closes the socket as it quits */
    }
    if ((await this.daemon?.waitFor(5000)) === undefined) this.daemon?.kill('SIGKILL');
    await this.daemon?.wait();
    this.stopped();
  }

  /** ACPI power button; waits for the guest to halt, else pulls the plug. */
  async shutdown(timeoutMs = 60_000): Promise<boolean> {
    if (this.state === 'off') return true;
    if (this.state === 'paused') await this.resume();
    await this.qmp?.execute('system_powerdown').catch(() => undefined);
    const clean = (await this.daemon?.waitFor(timeoutMs)) !== undefined;
    if (!clean) await this.powerOff();
    this.stopped();
    return clean;
  }

  /** The reset button: the guest reboots at once from the same disk. */
  async reset(): Promise<void> {
    if (this.state !== 'running') throw new LabError(`cannot reset ${this.name}: it is ${this.state}`);
    await this.qmp!.execute('system_reset');
  }

  /** Bytes the serial console has written so far: whether the guest is still making progress. */
  consoleSize(): number {
    try {
      return statSync(this.consoleLog).size;
    } catch {
      return 0;
    }
  }

  async pause(): Promise<void> {
    if (this.state !== 'running') throw new LabError(`cannot pause ${this.name}: it is ${this.state}`);
    await this.qmp!.execute('stop');
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused') throw new LabError(`cannot resume ${this.name}: it is ${this.state}`);
    await this.qmp!.execute('cont');
    this.state = 'running';
  }

  /** Sets the link of the NIC with this netdev id up or down (cable pulled). */
  async setLink(netdev: string, up: boolean): Promise<void> {
    await this.qmp!.execute('set_link', { name: netdev, up });
  }

  consoleTail(lines = 40): string {
    return readTail(this.consoleLog, lines);
  }

  private sampleRss(): void {
    const pid = this.pid;
    if (!pid) return;
    try {
      const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
      this.maxRssKb = Math.max(this.maxRssKb, kb);
    } catch {
      /* exited */
    }
  }

  private stopped(): void {
    this.sampleRss();
    clearInterval(this.rssTimer);
    this.qmp?.close();
    this.qmp = undefined;
    this.state = 'off';
  }
}
