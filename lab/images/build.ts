import { createWriteStream, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError } from '../util/errors.js';
import { onExit } from '../util/exit.js';
import { markBuild, removeBuildScratch } from './stalebuilds.js';
import { labosSources } from './aptsources.js';
import { requireTools, BUILD_TOOLS, type HostTool } from '../host/tools.js';
import { builtImageDir, findBuiltImage, imagesDir, recipeDir, recipeHash, writeImageManifest, type ImageFiles } from './store.js';
import { withLock } from '../util/lock.js';
import { log, section } from '../util/log.js';

export interface BuildOptions {
  mirror?: string;
  force?: boolean;
  signal?: AbortSignal;
}

/** The labos image for the current recipe: from the cache, or built now (a few minutes). */
export async function ensureLabos(opts: BuildOptions = {}): Promise<ImageFiles> {
  return buildRecipe(
    {
      name: 'labos',
      tools: BUILD_TOOLS,
      about: 'mmdebstrap from Debian packages; a few minutes',
      outputs: 'disk.qcow2, vmlinuz, initrd.img, initrd-plain.img or cmdline',
      find: (key) => findBuiltImage('labos', key),
    },
    opts,
  );
}

/** A recipe under images/<name>/ whose build.sh writes its outputs into the folder it is given. */
export interface Recipe<T> {
  name: string;
  /** Host tools build.sh needs (checked before it runs). */
  tools: HostTool[];
  /** Shown in the build section's title, e.g. "mmdebstrap from Debian packages; a few minutes". */
  about: string;
  /** The outputs, named for the error when a finished build lacks them. */
  outputs: string;
  /** The complete cached build for this recipe hash (its folder is builtImageDir(name, key)), if any. */
  find: (key: string) => T | undefined;
}

/**
 * The build of a recipe for its current hash: from the cache, or built now with its build.sh
 * (LABOS_SOURCES = this host's bookworm apt sources or --mirror), under a cross-process lock.
 */
export async function buildRecipe<T>(recipe: Recipe<T>, opts: BuildOptions = {}): Promise<T> {
  const { name } = recipe;
  const key = recipeHash(recipeDir(name));
  const cached = !opts.force && recipe.find(key);
  if (cached) {
    log(`${name} image ${key.slice(0, 12)} from cache: ${builtImageDir(name, key)}`);
    return cached;
  }
  return withLock(`build-${name}-${key.slice(0, 16)}`, async () => {
    const again = !opts.force && recipe.find(key);
    if (again) return again;
    return section(`build ${name} image ${key.slice(0, 12)} (${recipe.about})`, () => runRecipe(recipe, key, opts));
  }, opts.signal);
}

async function runRecipe<T>(recipe: Recipe<T>, key: string, opts: BuildOptions): Promise<T> {
  const { name } = recipe;
  requireTools(recipe.tools, `building the ${name} image`);
  const sources = labosSources(opts.mirror ?? process.env.CORELAB_DEBIAN_MIRROR);
  const final = builtImageDir(name, key);
  const work = `${final}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const sourcesFile = join(work, 'sources.list');
  writeFileSync(sourcesFile, sources);
  const logFile = join(imagesDir(), `${name}-${key.slice(0, 16)}.build.log`);
  const t0 = Date.now();
  try {
    await runBuildScript(name, join(recipeDir(name), 'build.sh'), work, sourcesFile, logFile, opts.signal);
    rmSync(sourcesFile);
    await writeImageManifest(work, {
      name,
      recipe: key,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - t0) / 1000),
      packages: existsSync(join(work, 'packages.txt')) ? readFileSync(join(work, 'packages.txt'), 'utf8').split('\n').filter(Boolean).length : undefined,
    });
    rmSync(final, { recursive: true, force: true });
    renameSync(work, final);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  const built = recipe.find(key);
  if (!built) throw new LabError(`${name} build finished but ${final} lacks ${recipe.outputs}; see ${logFile}`);
  return built;
}

function runBuildScript(name: string, script: string, outDir: string, sourcesFile: string, logFile: string, signal?: AbortSignal): Promise<void> {
  mkdirSync(imagesDir(), { recursive: true });
  const out = createWriteStream(logFile);
  const tail: string[] = [];
  // The script's scratch folder is made here, so whoever outlives the script can remove it.
  const scratch = mkdtempSync(join(tmpdir(), `${name}-build.`));
  return new Promise((resolve, reject) => {
    // Its own process group, so an interrupt stops mmdebstrap and everything under it, not just bash.
    const child = spawn('bash', [script, outDir], {
      env: { ...process.env, LABOS_SOURCES: sourcesFile, BUILD_SCRATCH: scratch },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    signal?.addEventListener('abort', killGroup, { once: true });
    const offExit = onExit(killGroup);
    const unmark = child.pid ? markBuild(child.pid, scratch) : () => undefined;
    child.on('close', () => {
      signal?.removeEventListener('abort', killGroup);
      offExit();
      removeBuildScratch(scratch);
      unmark();
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        out.write(line + '\n');
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (line.startsWith('==> ')) log(line.slice(4));
      });
    }
    child.on('error', (err) => {
      removeBuildScratch(scratch);
      reject(new LabError(`could not run ${script}: ${err.message}`));
    });
    child.on('close', (code) => {
      out.end();
      if (code === 0) return resolve();
      reject(
        new LabError(`${name} image build failed (exit ${code}); last lines of ${logFile}:\n${tail.join('\n')}`, {
          fix: 'read the build log; if Debian packages could not be fetched, pass a reachable Debian mirror with --mirror URL',
        }),
      );
    });
  });
}
