/**
 * Boot templates (labos under TCG). Booting a labos node costs ~30 s of CPU before cloud-init reads
 * its config: the kernel, udev, systemd and the Python import of cloud-init, the same for every node
 * of an image and size, and three nodes share two cores. A template is one VM of the image booted
 * that far (the kernel command line says labos.template: `labos-template-hold.service` waits there
 * before cloud-init-local, with no NIC and no config drive) and saved (memory and disk), once per
 * image, memory size and vCPU count. A node then starts from it (machine.ts): restore, hotplug its
 * NICs and drives, hand it the release disk (its clock, machine id, randomness), and cloud-init reads
 * the node's own config as on any boot. Kept in the cache (templates/KEY), made under a lock.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Machine } from './machine.js';
import type { BootSpec } from './boot.js';
import { qemuVersion, type Accel, type TcgThreads } from './accel.js';
import type { BootTemplate } from './hotplug.js';
import { BOOT_FATAL, ConsoleWatch } from './console.js';
import { cacheDir } from '../util/paths.js';
import { withLock } from '../util/lock.js';
import { LabError } from '../util/errors.js';
import { log, seconds } from '../util/log.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { readTail } from '../util/text.js';

/** Added to the image's kernel command line in a template: stop before cloud-init; cloud-init on even with no datasource yet. */
export const TEMPLATE_CMDLINE = 'labos.template ci.di.policy=enabled';
/** The console line the hold unit prints when the template is ready to save. */
export const TEMPLATE_READY = 'labos-template: ready';
/** Bumped when what a template holds changes in a way its key does not show. */
const LAYOUT = 1;
const MAKE_TIMEOUT_MS = 10 * 60_000;

export interface TemplateRequest {
  boot: BootSpec;
  memoryMb: number;
  cpus: number;
  accel: Accel;
  tcgThreads?: TcgThreads;
}

/** Whether nodes of this boot can start from a template: labos (a plain initramfs) under TCG, unless CORELAB_BOOT_TEMPLATE=0. */
export function templatesApply(boot: BootSpec, accel: Accel): boolean {
  return accel === 'tcg' && !!boot.kernel?.plainInitrd && process.env.CORELAB_BOOT_TEMPLATE !== '0';
}

/** Where templates are kept: the cache's templates/ (CORELAB_TEMPLATES overrides it). */
export function templatesDir(): string {
  return process.env.CORELAB_TEMPLATES || join(cacheDir(), 'templates');
}

/** The template's cache key: the image's files (their cache paths carry the recipe hash), the size, the machine, QEMU's version. */
export async function templateKey(r: TemplateRequest): Promise<string> {
  const k = r.boot.kernel!;
  const what = { LAYOUT, kernel: k.kernel, initrd: k.plainInitrd, cmdline: k.cmdline, disk: 'base' in r.boot.disk ? r.boot.disk.base : null, machine: r.boot.machine ?? 'pc', memoryMb: r.memoryMb, cpus: r.cpus, accel: r.accel, qemu: await qemuVersion() };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

/** The cached template for this request, made now (under a lock) when there is none. */
export async function ensureTemplate(r: TemplateRequest, signal?: AbortSignal): Promise<BootTemplate> {
  const key = await templateKey(r);
  const dir = join(templatesDir(), key);
  const cached = readTemplate(dir);
  if (cached) return cached;
  return withLock(`template-${key}`, async () => readTemplate(dir) ?? (await makeTemplate(r, key, dir, signal)), signal);
}

function readTemplate(dir: string): BootTemplate | undefined {
  try {
    const t = JSON.parse(readFileSync(join(dir, 'template.json'), 'utf8')) as BootTemplate;
    return existsSync(t.state) && existsSync(t.disk) ? t : undefined;
  } catch {
    return undefined;
  }
}

async function makeTemplate(r: TemplateRequest, key: string, dir: string, signal?: AbortSignal): Promise<BootTemplate> {
  const t0 = Date.now();
  log(`making the boot template ${key} (${r.boot.image}, ${r.cpus} vCPU, ${r.memoryMb} MiB): one VM booted until cloud-init would read its config, then saved; once per image and size`);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const cmdline = `${r.boot.kernel!.cmdline} ${TEMPLATE_CMDLINE}`;
  const m = new Machine({
    name: `template-${key.slice(0, 8)}`,
    dir: work,
    boot: { ...r.boot, kernel: { ...r.boot.kernel!, cmdline } },
    memoryMb: r.memoryMb,
    cpus: r.cpus,
    accel: r.accel,
    tcgThreads: r.tcgThreads,
    netArgs: [],
    makingTemplate: true,
  });
  try {
    await m.start();
    const watch = new ConsoleWatch(m.name, m.consoleLog);
    await waitUntil(`the boot template ${key} to reach cloud-init (console: ${m.consoleLog})`, async () => {
      const fatal = watch.scan().find((f) => BOOT_FATAL.has(f.what));
      if (fatal) throw new LabError(`the boot template ${key} failed to boot (${fatal.what}):\n${fatal.excerpt}`);
      if (!m.alive) throw new LabError(`QEMU for the boot template ${key} exited: ${readTail(m.qemuLog, 10)}`);
      if (readTail(m.consoleLog, 5).includes(TEMPLATE_READY)) return;
      throw new NotYet('not at cloud-init yet');
    }, { timeoutMs: MAKE_TIMEOUT_MS, intervalMs: 250, signal });
    // The disk goes to a file of its own: the VM runs on after the save until it is stopped, and
    // what it writes then must not reach the template's disk.
    await m.saveTo(join(work, 'state.zst'), join(work, 'saved.qcow2'));
  } catch (err) {
    await m.powerOff();
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  await m.powerOff();
  const t: BootTemplate = { key, kernel: r.boot.kernel!.kernel, state: join(dir, 'state.zst'), disk: join(dir, 'disk.qcow2'), cmdline };
  rmSync(m.overlay, { force: true });
  renameSync(join(work, 'saved.qcow2'), join(work, 'disk.qcow2'));
  rmSync(m.qmpSocket, { force: true });
  writeFileSync(join(work, 'template.json'), JSON.stringify(t, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  log(`boot template ${key} made in ${seconds(Date.now() - t0)}`);
  return t;
}

/** Removes templates whose image is gone from the cache (the image was rebuilt or removed), and unfinished ones of dead processes. */
export function pruneTemplates(): void {
  const root = templatesDir();
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    const tmp = name.match(/\.tmp-(\d+)$/);
    if (tmp) {
      if (!pidAlive(Number(tmp[1]))) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    const t = readTemplate(dir);
    if (!t || !existsSync(t.kernel)) rmSync(dir, { recursive: true, force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
