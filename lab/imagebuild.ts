import { createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError } from './errors.js';
import { labosSources } from './aptsources.js';
import { requireTools, BUILD_TOOLS } from './hosttools.js';
import { builtImageDir, findBuiltImage, imagesDir, recipeDir, recipeHash, withLock, writeImageManifest, type ImageFiles } from './imagestore.js';
import { log, section } from './log.js';

export interface BuildOptions {
  mirror?: string;
  force?: boolean;
  signal?: AbortSignal;
}

/** The labos image for the current recipe: from the cache, or built now (a few minutes). */
export async function ensureLabos(opts: BuildOptions = {}): Promise<ImageFiles> {
  const key = recipeHash(recipeDir('labos'));
  const cached = !opts.force && findBuiltImage('labos', key);
  if (cached) {
    log(`labos image ${key.slice(0, 12)} from cache: ${cached.dir}`);
    return cached;
  }
  return withLock(`build-labos-${key.slice(0, 16)}`, async () => {
    const again = !opts.force && findBuiltImage('labos', key);
    if (again) return again;
    return section(`build labos image ${key.slice(0, 12)} (mmdebstrap from Debian packages; a few minutes)`, () => buildLabos(key, opts));
  }, opts.signal);
}

async function buildLabos(key: string, opts: BuildOptions): Promise<ImageFiles> {
  requireTools(BUILD_TOOLS, 'building the labos image');
  const sources = labosSources(opts.mirror ?? process.env.CORELAB_DEBIAN_MIRROR);
  const final = builtImageDir('labos', key);
  const work = `${final}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const sourcesFile = join(work, 'sources.list');
  writeFileSync(sourcesFile, sources);
  const logFile = join(imagesDir(), `labos-${key.slice(0, 16)}.build.log`);
  const t0 = Date.now();
  try {
    await runBuildScript(join(recipeDir('labos'), 'build.sh'), work, sourcesFile, logFile, opts.signal);
    rmSync(sourcesFile);
    writeImageManifest(work, {
      name: 'labos',
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
  const built = findBuiltImage('labos', key);
  if (!built) throw new LabError(`labos build finished but ${final} lacks disk.qcow2, vmlinuz, initrd.img or cmdline; see ${logFile}`);
  return built;
}

function runBuildScript(script: string, outDir: string, sourcesFile: string, logFile: string, signal?: AbortSignal): Promise<void> {
  mkdirSync(imagesDir(), { recursive: true });
  const out = createWriteStream(logFile);
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, outDir], {
      env: { ...process.env, LABOS_SOURCES: sourcesFile },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        out.write(line + '\n');
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (line.startsWith('==> ')) log(line.slice(4));
      });
    }
    child.on('error', (err) => reject(new LabError(`could not run ${script}: ${err.message}`)));
    child.on('close', (code) => {
      out.end();
      if (code === 0) return resolve();
      reject(
        new LabError(`labos image build failed (exit ${code}); last lines of ${logFile}:\n${tail.join('\n')}`, {
          fix: 'read the build log; if Debian packages could not be fetched, pass a reachable Debian mirror with --mirror URL',
        }),
      );
    });
  });
}
