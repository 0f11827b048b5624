import { Command, CommanderError, Option } from 'commander';
import { readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../scenario/loader.js';
import { runScenario, type ScenarioResult } from '../run/runner.js';
import { writeReports } from '../report/report.js';
import { ensureLabos } from '../images/build.js';
import { builtImageDir, recipeDir, recipeHash } from '../images/store.js';
import { formatError, LabError } from '../util/errors.js';
import { ensureNginxImage } from '../images/containerimage.js';
import { importImage, listImages, pullImage, removeImage, verifyImage } from '../images/fetch.js';
import { killAllDaemons, liveDaemons } from '../host/proc.js';
import { down, findLab, serve, sshArgs, statusText, up } from './interactive.js';
import { checkReportDir } from './reportdir.js';
import { cleanStaleLabs } from '../cluster/state.js';
import { ARTIFACTS, howToSupply, importArtifact, pullArtifact, resolveArtifact } from '../images/artifacts.js';
import { flaky, shard } from '../scenario/selection.js';
import { spawn } from 'node:child_process';
import { log, seconds } from '../util/log.js';
import { capBytes, checkpointsDir, listCheckpoints, parseSize, pruneCheckpoints, removeCheckpoint } from '../checkpoints/store.js';
import { mb } from '../download/download.js';

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      killAllDaemons();
      process.exit(130);
    }
    log(`${sig}: stopping; tearing the lab down (press Ctrl-C again to kill at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 0;
  const program = new Command('corelab')
    .description('Boot container-host OS images in QEMU on a private network and run scenarios against them')
    .exitOverride()
    .showHelpAfterError()
    .enablePositionalOptions();

  program
    .command('run')
    .description('run scenarios (folders with a scenario.yaml, or the files); exit 0 only if every step passes')
    .argument('<scenario...>')
    .option('--report <dir>', 'write junit.xml, report.json and consoles/ into this folder')
    .option('--keep', 'after a failed step, leave the lab up for inspection (status, ssh, console) until Ctrl-C or corelab down')
    .option('--artifacts <dir>', 'a folder with artifacts scenarios require (fleetd and fleetctl, or the fleet release tarball)')
    .option('--repeat <n>', 'run each scenario N times, to expose flakes', (v) => positive(v, '--repeat'), 1)
    .option('--shard <i/n>', 'run only shard I of N of the scenarios (for a CI matrix)')
    .option('--cold', 'run every step even when a saved checkpoint matches (checkpoints are saved again)')
    .addOption(new Option('--accel <accel>', 'force the accelerator').choices(['kvm', 'tcg']))
    .action(async (paths: string[], o: { report?: string; keep?: boolean; accel?: 'kvm' | 'tcg'; repeat: number; shard?: string; artifacts?: string; cold?: boolean }) => {
      if (o.report) checkReportDir(o.report); // before anything boots
      let plans = paths.map((p) => loadScenario(p));
      if (o.shard) {
        plans = shard(plans, o.shard);
        log(`shard ${o.shard}: ${plans.map((p) => p.name).join(', ') || 'no scenarios'}`);
      }
      cleanStaleLabs();
      const results: ScenarioResult[] = [];
      for (const plan of plans) {
        for (let run = 1; run <= o.repeat; run++) {
          if (controller.signal.aborted) break;
          const sub = plans.length > 1 || o.repeat > 1 ? `${plan.name}${o.repeat > 1 ? `-run${run}` : ''}` : '';
          const reportDir = o.report ? join(o.report, sub) : undefined;
          const r = await runScenario(plan, { reportDir, keepFailed: o.keep, accel: o.accel, artifactsDir: o.artifacts, cold: o.cold, signal: controller.signal });
          if (o.repeat > 1) Object.assign(r, { run, runs: o.repeat });
          results.push(r);
        }
      }
      if (o.report) writeReports(o.report, results);
      summary(results);
      if (o.repeat > 1) {
        const flakes = flaky(results);
        process.stdout.write(`${flakes.length} flaky scenario(s)${flakes.length ? `: ${flakes.join(', ')}` : ''} over ${o.repeat} runs each\n`);
      }
      code = controller.signal.aborted ? 130 : results.every((r) => r.status === 'passed' || r.status === 'skipped') ? 0 : 1;
    });

  program
    .command('lint')
    .description('check scenario files and their node configs without booting anything')
    .argument('<scenario...>')
    .action((paths: string[]) => {
      for (const p of paths) {
        const plan = loadScenario(p);
        process.stdout.write(`${p}: ok (${plan.nodes.length} nodes, ${plan.steps.length} steps)\n`);
      }
    });

  program
    .command('up')
    .description('boot a scenario\'s lab and leave it running (then: status, ssh, console, down)')
    .argument('<scenario>')
    .addOption(new Option('--accel <accel>', 'force the accelerator').choices(['kvm', 'tcg']))
    .action(async (path: string, o: { accel?: 'kvm' | 'tcg' }) => {
      const lab = await up(path, { accel: o.accel, signal: controller.signal });
      process.stdout.write(`lab ${lab.name} is up\n${statusText()}ssh into a node: corelab ssh NODE\nstop it:         corelab down ${lab.name}\n`);
    });

  program
    .command('serve', { hidden: true })
    .description('own a lab until SIGTERM (what up starts in the background)')
    .argument('<scenario>')
    .addOption(new Option('--accel <accel>').choices(['kvm', 'tcg']))
    .action(async (path: string, o: { accel?: 'kvm' | 'tcg' }) => {
      await serve(path, { accel: o.accel, signal: controller.signal });
    });

  program
    .command('status')
    .description('labs that are up, their nodes and how to reach them')
    .action(() => {
      process.stdout.write(statusText());
    });

  program
    .command('ssh')
    .description('a shell (or a command) on a node of a running lab; what follows the node goes to the guest as it is')
    .argument('<node>')
    .argument('[command...]')
    .option('--lab <name>', 'which lab, when several are up (before the node)')
    .passThroughOptions()
    .action(async (node: string, command: string[], o: { lab?: string }) => {
      const lab = findLab(o.lab, node);
      const child = spawn('ssh', sshArgs(lab, node, command), { stdio: 'inherit' });
      code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 255)));
    });

  program
    .command('console')
    .description('the serial console log of a node of a running lab')
    .argument('<node>')
    .option('--lab <name>', 'which lab, when several are up')
    .option('-f, --follow', 'keep printing as the console writes')
    .action(async (node: string, o: { lab?: string; follow?: boolean }) => {
      const lab = findLab(o.lab, node);
      const file = lab.nodes.find((n) => n.name === node)!.console;
      const child = spawn('tail', ['-n', '200', ...(o.follow ? ['-f'] : []), file], { stdio: 'inherit' });
      controller.signal.addEventListener('abort', () => child.kill());
      await new Promise((r) => child.on('exit', r));
    });

  program
    .command('down')
    .description('tear a running lab down')
    .argument('[lab]', 'the lab (or its scenario name); the only one if not given')
    .action(async (name?: string) => {
      const lab = findLab(name);
      await down(lab);
      process.stdout.write(`lab ${lab.name} is down\n`);
    });

  const checkpoints = program.command('checkpoints').description('saved labs that later runs restore instead of replaying the steps before them');
  checkpoints
    .command('list')
    .description('every saved checkpoint: scenario, name, size, when saved and last used')
    .action(() => {
      const all = listCheckpoints().sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
      for (const m of all) {
        process.stdout.write(`${m.key}  ${m.scenario}/${m.checkpoint}  after step ${m.afterStep + 1}  ${mb(m.size)}  saved ${m.createdAt}  used ${m.lastUsedAt}\n`);
      }
      const total = all.reduce((a, m) => a + m.size, 0);
      process.stdout.write(`${all.length} checkpoint(s), ${mb(total)} of a ${mb(capBytes())} cap (CORELAB_CHECKPOINT_CAP) in ${checkpointsDir()}\n`);
    });
  checkpoints
    .command('rm')
    .description('remove checkpoints by key (or key prefix), or --all')
    .argument('[keys...]')
    .option('--all', 'remove every checkpoint')
    .action((keys: string[], o: { all?: boolean }) => {
      const all = listCheckpoints();
      if (!o.all && !keys.length) throw new LabError('name the checkpoints to remove', { fix: 'corelab checkpoints rm KEY (see corelab checkpoints list), or --all' });
      for (const k of o.all ? all.map((m) => m.key) : keys) {
        const match = all.filter((m) => m.key.startsWith(k));
        if (match.length !== 1) throw new LabError(match.length ? `"${k}" matches ${match.length} checkpoints` : `no checkpoint "${k}"`, { fix: 'give more of the key; corelab checkpoints list shows them' });
        removeCheckpoint(match[0].key);
        process.stdout.write(`removed ${match[0].key} (${match[0].scenario}/${match[0].checkpoint})\n`);
      }
    });
  checkpoints
    .command('prune')
    .description('remove least recently used checkpoints until the store fits its cap')
    .option('--max-size <size>', 'the cap for this prune, e.g. 10G (default CORELAB_CHECKPOINT_CAP or 20G)')
    .action((o: { maxSize?: string }) => {
      const cap = o.maxSize ? parseSize(o.maxSize) : capBytes();
      const removed = pruneCheckpoints(cap);
      for (const m of removed) process.stdout.write(`removed ${m.key} (${m.scenario}/${m.checkpoint}, ${mb(m.size)}, last used ${m.lastUsedAt})\n`);
      process.stdout.write(`${removed.length} removed; ${mb(listCheckpoints().reduce((a, m) => a + m.size, 0))} left of a ${mb(cap)} cap\n`);
    });

  const artifacts = program.command('artifacts').description('programs the lab hands guests that their image lacks (fleet; etcd 3.4 for Flatcar)');
  artifacts
    .command('list')
    .description('known artifacts and whether they are here')
    .option('--artifacts <dir>', 'also look in this folder')
    .action(async (o: { artifacts?: string }) => {
      for (const spec of Object.values(ARTIFACTS)) {
        const a = await resolveArtifact(spec.name, o.artifacts ?? process.env.CORELAB_ARTIFACTS);
        process.stdout.write(`${spec.name} ${a?.version ?? spec.version}  ${a ? `here: ${a.source} (sha256 ${a.sha256.slice(0, 16)}…)` : `missing: ${howToSupply(spec)}`}\n`);
      }
    });
  artifacts
    .command('pull')
    .description('download an artifact\'s upstream release asset (or from --mirror) into the cache')
    .argument('<name>')
    .option('--mirror <url>', 'a mirror with the upstream paths (or CORELAB_ARTIFACTS_MIRROR)')
    .option('--offline', 'never touch the network')
    .action(async (name: string, o: { mirror?: string; offline?: boolean }) => {
      const a = await pullArtifact(name, { ...o, signal: controller.signal });
      process.stdout.write(`${a.spec.name} ${a.spec.version}: ${Object.values(a.binaries).join(', ')} (release sha256 ${a.sha256})\n`);
    });
  artifacts
    .command('import')
    .description('take an artifact from a local file into the cache: the upstream release tarball, or one of its binaries (e.g. /usr/bin/etcd)')
    .argument('<name>')
    .argument('<file>')
    .action(async (name: string, file: string) => {
      const spec = ARTIFACTS[name];
      if (!spec) throw new LabError(`unknown artifact "${name}"`, { fix: `known: ${Object.keys(ARTIFACTS).join(', ')}` });
      const { artifact: a, missing } = await importArtifact(spec, file);
      if (a) process.stdout.write(`${spec.name} ${a.version ?? spec.version} imported from ${file} (sha256 ${a.sha256})\n`);
      else process.stdout.write(`${spec.name}: ${file} imported; still missing: ${missing.join(', ')} (import ${missing.length > 1 ? 'them' : 'it'} the same way)\n`);
    });

  const images = program.command('images').description('guest images: build, list');
  images
    .command('build')
    .description('build labos (guest) or nginx (container) from Debian packages; a no-op when the recipe is unchanged')
    .argument('[name]', 'image to build', 'labos')
    .option('--mirror <url>', 'Debian mirror to build from (default: this host\'s apt sources)')
    .option('--force', 'build again even if the cache has this recipe')
    .action(async (name: string, o: { mirror?: string; force?: boolean }) => {
      const opts = { mirror: o.mirror, force: o.force, signal: controller.signal };
      if (name === 'labos') process.stdout.write(`${(await ensureLabos(opts)).dir}\n`);
      else if (name === 'nginx') process.stdout.write(`${await ensureNginxImage(opts)}\n`);
      else throw new LabError(`there is no local recipe for an image "${name}"`, { fix: 'build labos (the guest image) or nginx (the container image the registry mirror serves)' });
    });
  images
    .command('list')
    .description('images in the catalog and their cache state')
    .action(() => {
      process.stdout.write(`NAME               KIND      STATE       SIZE       VERIFIED\n`);
      for (const i of listImages()) {
        const state = i.cached ? 'cached' : i.kind === 'build' ? 'not built' : 'not pulled';
        const size = i.size ? `${(i.size / 2 ** 20).toFixed(0)} MiB` : '-';
        process.stdout.write(`${i.name.padEnd(18)} ${i.kind.padEnd(9)} ${state.padEnd(11)} ${size.padEnd(10)} ${i.verified ?? '-'}\n`);
      }
      const nginx = builtImageDir('nginx', recipeHash(recipeDir('nginx')));
      process.stdout.write(`${'nginx (container)'.padEnd(18)} ${'build'.padEnd(9)} ${(existsSync(join(nginx, 'image.json')) ? 'cached' : 'not built').padEnd(11)} ${existsSync(join(nginx, 'image.json')) ? `${(du(nginx) / 2 ** 20).toFixed(0)} MiB` : '-'}\n`);
    });
  const fetchOpts = (o: { mirror?: string; offline?: boolean; key?: string }) => ({ mirror: o.mirror, offline: o.offline, key: o.key, signal: controller.signal });
  images
    .command('pull')
    .description('download an image of the catalog, verify its digests and signature, and cache it')
    .argument('<name>')
    .option('--mirror <url>', 'fetch from this mirror instead of upstream (or CORELAB_IMAGE_MIRROR)')
    .option('--offline', 'never touch the network; say which file is missing and how to import it')
    .option('--key <file>', 'the OpenPGP key that signs the digests (Flatcar\'s rotates yearly)')
    .option('--refresh', 'fetch the digest list again and download what changed (for moving entries such as flatcar-stable); without it a cached image is used as it is')
    .action(async (name: string, o: { mirror?: string; offline?: boolean; key?: string; refresh?: boolean }) => {
      const img = await pullImage(name, { ...fetchOpts(o), refresh: o.refresh });
      process.stdout.write(`${img.name}: ${Object.entries(img.files).map(([role, path]) => `${role} ${path}`).join(', ')} (verified: ${img.verified})\n`);
    });
  images
    .command('import')
    .description('take an image file you already have into the cache (verified when its digests can be had)')
    .argument('<name>')
    .argument('<file>')
    .option('--mirror <url>')
    .option('--offline')
    .option('--key <file>')
    .action(async (name: string, file: string, o: { mirror?: string; offline?: boolean; key?: string }) => {
      const r = await importImage(name, file, fetchOpts(o));
      process.stdout.write(`${name}: imported ${file} as its ${r.role} (verified: ${r.verified})\n`);
    });
  images
    .command('verify')
    .description('check the cached files of an image against their digests again')
    .argument('<name>')
    .option('--mirror <url>')
    .option('--offline')
    .option('--key <file>')
    .action(async (name: string, o: { mirror?: string; offline?: boolean; key?: string }) => {
      const r = await verifyImage(name, fetchOpts(o));
      process.stdout.write(`${r.name}: ${r.verified}\n`);
    });
  images
    .command('rm')
    .description('remove an image from the cache')
    .argument('<name>')
    .action((name: string) => {
      process.stdout.write(`${name}: ${(removeImage(name) / 2 ** 20).toFixed(0)} MiB freed\n`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`corelab: ${formatError(err)}\n`);
    return controller.signal.aborted ? 130 : 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Every command stops what it started; anything still up here is a lab bug, and would keep
    // this process from exiting. Say so, and stop it.
    const left = liveDaemons();
    if (left.length) {
      process.stderr.write(`corelab: internal error: ${left.map((d) => `${d.name} (pid ${d.pid})`).join(', ')} still running at exit; stopping them\n`);
      killAllDaemons();
      code = code || 1;
    }
  }
  return code;
}

function summary(results: ScenarioResult[]): void {
  for (const r of results) {
    const passed = r.steps.filter((s) => s.status === 'passed').length;
    const failed = r.steps.filter((s) => s.status === 'failed').length;
    const skipped = r.steps.filter((s) => s.status === 'skipped').length;
    process.stdout.write(`${r.status.toUpperCase()} ${r.scenario}${r.run ? ` (run ${r.run}/${r.runs})` : ''} in ${seconds(r.durationMs)}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (r.error) process.stdout.write(`  ${r.error.split('\n').join('\n  ')}\n`);
    if (r.skipReason) process.stdout.write(`  skipped: ${r.skipReason}\n`);
    const cp = r.checkpoint;
    if (cp?.restored) process.stdout.write(`  restored from checkpoint "${cp.restored}" (${cp.key}): the steps before it were not run again\n`);
    else if (cp?.coldReason) process.stdout.write(`  cold run: ${cp.coldReason}\n`);
    for (const x of cp?.saved ?? []) process.stdout.write(`  saved checkpoint "${x.name}" (${x.key}, ${mb(x.bytes)}) in ${seconds(x.ms)}\n`);
    for (const s of r.steps.filter((x) => x.status === 'failed')) {
      process.stdout.write(`  failed: step ${s.index + 1} "${s.name}" (${r.file}:${s.line}) on ${s.node}\n`);
      if (s.command) process.stdout.write(`    $ ${s.command}\n    exit status ${s.exitCode ?? 'none'}\n`);
      for (const f of s.failures ?? []) process.stdout.write(`    - ${f}\n`);
      if (s.message) process.stdout.write(`    ${s.message}\n`);
      const out = (s.stdout ?? '').trimEnd();
      if (out) process.stdout.write(`    got:\n${out.split('\n').slice(-15).map((l) => `      ${l}`).join('\n')}\n`);
    }
  }
}

/** Bytes used by the files under dir. */
function du(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).size, 0);
}

function positive(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new LabError(`${what} takes a whole number of at least 1, got "${v}"`);
  return n;
}
