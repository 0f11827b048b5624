/**
 * The run layer (lab/run/): one scenario run from plan to result. It owns the pre-flight that
 * resolves a scenario into a Plan once (this file: catalog, image, artifacts, node configs,
 * accelerator), opening a lab fresh or from a checkpoint (open.ts), the steps and their checks
 * (steps.ts, expect.ts, tables.ts), reruns (attempts) and the result types (results.ts). It may
 * import cluster/ and everything below it, never report/ or cli/.
 */
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { loadCatalog, type Catalog, type CatalogEntry } from '../images/catalog.js';
import { labosBoot, pulledBoot } from '../machine/boot.js';
import { chooseAccel, type Accel } from '../machine/accel.js';
import { LabError } from '../util/errors.js';
import { ensureLabos } from '../images/build.js';
import { cachedImage } from '../images/fetch.js';
import { findBuiltImage } from '../images/store.js';
import { checkBuiltImage, checkPulledImage } from '../images/integrity.js';
import { closest, FileProblems, formatProblem, type Problem } from '../scenario/yamlsource.js';
import { loadScenario, type LoadOptions } from '../scenario/loader.js';
import { knownVariables } from '../scenario/variables.js';
import type { Scenario } from '../scenario/model.js';
import { ARTIFACTS, howToSupply, resolveArtifact, type ResolvedArtifact } from '../images/artifacts.js';
import { impliedArtifacts } from '../guestconfig/units.js';
import { lintNodeConfig } from '../guestconfig/lint.js';
import { guestSshPort, nodeAgent } from '../guestconfig/nodeconfig.js';
import { render } from '../util/template.js';
import { requireTools, RUN_TOOLS } from '../host/tools.js';
import { section, warn } from '../util/log.js';
import { cachedContainer, type ImportedContainer } from '../images/containerarchive.js';
import { requiredContainers } from '../scenario/rancher.js';
import type { CheckedScenario, GuestImage, Plan } from '../cluster/plan.js';

export interface PlanOptions extends LoadOptions {
  /** The catalog, read once by the caller for every scenario of a command. */
  catalog?: Catalog;
}

/** Loads a scenario and checks what needs the catalog: its image name, artifacts and node configs. */
export function loadPlan(path: string, opts: PlanOptions = {}): CheckedScenario {
  return checkScenario(loadScenario(path, opts), opts.catalog ?? loadCatalog());
}

export function checkScenario(s: Scenario, catalog: Catalog): CheckedScenario {
  const problems: Problem[] = [];
  const entry = catalog.get(s.image);
  if (!entry) {
    const p = imageNameProblem(s.image, catalog)!;
    problems.push({ ...(s.imageAt ?? { line: 1, column: 1 }), message: p.message, fix: p.fix });
  }
  s.requires.forEach((a, i) => {
    if (!ARTIFACTS[a]) problems.push({ ...s.requiresAt[i], message: `unknown artifact "${a}"`, fix: `known: ${Object.keys(ARTIFACTS).join(', ')}` });
  });
  const known = knownVariables(s.nodes.map((n) => n.name), !!s.discovery, !!s.registry, s.nodes.flatMap((n) => n.ports.map((p) => `nodes.${n.name}.ports.${p}`)), !!s.rancher);
  const sample = Object.fromEntries(known.configList.map((v) => [v, v.endsWith('address') ? '192.0.2.1' : v.includes('url') || v.includes('endpoint') ? 'http://10.0.2.100:2379/x' : 'x']));
  const linted = new Set<string>();
  for (const n of s.nodes) {
    if (!n.config || linted.has(n.configFile)) continue;
    linted.add(n.configFile);
    problems.push(...lintNodeConfig(n.configFile, n.config, sample, entry));
  }
  const shown = relative(process.cwd(), s.file) || s.file;
  // Warnings (keys an Ignition ignores) are told, and stop nothing; with an error they are listed too.
  if (problems.some((p) => p.severity !== 'warning')) throw new FileProblems(shown, problems);
  for (const p of problems) warn(formatProblem({ ...p, severity: undefined }, shown));
  const artifactNames = [...new Set([...s.requires, ...impliedArtifacts(entry!, s.nodes.map((n) => n.config))])];
  const nodes = s.nodes.map((n) => {
    const agent = nodeAgent(entry!, n.config);
    return { ...n, agent, guestSshPort: guestSshPort(render(n.config, sample), agent) };
  });
  return { ...s, nodes, entry: entry!, artifactNames };
}

/** A problem with a scenario's `image:` name, with the closest catalog name. */
export function imageNameProblem(name: string, catalog: Catalog): { message: string; fix: string } | undefined {
  if (catalog.has(name)) return undefined;
  const near = closest(name, [...catalog.keys()]);
  return {
    message: `unknown image "${name}": images/catalog.yaml has no such entry`,
    fix: near ? `did you mean "${near}"? (corelab images list shows them all)` : `use one of: ${[...catalog.keys()].join(', ')}`,
  };
}

/** The fix for an image that is not in the cache: pull it, or import files fetched elsewhere. */
function pullHint(entry: CatalogEntry, missing: string[]): string {
  const imports = missing.map((f) => `corelab images import ${entry.name} /path/to/${f}`).join(' && ');
  return `corelab images pull ${entry.name} (downloads and verifies it once), or fetch ${missing.join(', ')} on a machine with internet and run: ${imports}. A run never downloads images; \`corelab images pull ${entry.name} --offline\` only checks the cache and names what is missing`;
}

function where(s: Scenario): { file: string; line?: number } {
  return { file: relative(process.cwd(), s.file) || s.file, line: s.imageAt?.line };
}

/** Why the scenario cannot run here because of its image (a downloaded one not cached), or undefined. */
export function missingImage(s: CheckedScenario, catalog: Catalog): string | undefined {
  if (s.entry.build) return undefined;
  const { missing } = cachedImage(s.entry.name, catalog);
  if (!missing.length) return undefined;
  return `it boots ${s.entry.name}, which is not in the image cache (missing: ${missing.join(', ')}); to run it: ${pullHint(s.entry, missing)}`;
}

export interface PreflightOptions {
  catalog: Catalog;
  /** Where required artifacts are looked for first (--artifacts); else CORELAB_ARTIFACTS, then the cache. */
  artifactsDir?: string;
  accel?: Accel;
  signal?: AbortSignal;
  /** Boot a downloaded image even if it was imported without a checkable digest (--allow-unverified). */
  allowUnverified?: boolean;
}

/**
 * The one pre-flight: a checked scenario becomes a Plan (image ready, artifacts resolved once,
 * accelerator chosen), or the reason it is skipped here (image or artifact absent).
 */
export async function preflight(s: CheckedScenario, opts: PreflightOptions): Promise<{ plan: Plan } | { skip: string }> {
  const noImage = missingImage(s, opts.catalog);
  if (noImage) return { skip: noImage };
  const artifacts: ResolvedArtifact[] = [];
  for (const name of s.artifactNames) {
    const a = await resolveArtifact(name, opts.artifactsDir ?? process.env.CORELAB_ARTIFACTS);
    if (!a) return { skip: `it needs ${ARTIFACTS[name].name} ${ARTIFACTS[name].version}, which is not here; to run it, ${howToSupply(ARTIFACTS[name])}` };
    artifacts.push(a);
  }
  requireTools(RUN_TOOLS, 'running a scenario');
  const image = await section('image', () => prepareGuestImage(s, opts.catalog, { signal: opts.signal, allowUnverified: opts.allowUnverified }));
  const accel = opts.accel ?? (await chooseAccel(image.probeKernel));
  const containers = requiredContainers(s.steps).map((ref) => cachedContainer(ref)).filter((c): c is ImportedContainer => !!c);
  return { plan: { ...s, guest: image, artifacts, accel, containers } };
}

/**
 * The scenario's image, ready to boot: labos from the build cache (built now if needed), a
 * downloaded image from the download cache (a LabError at the `image:` line when it is not there).
 */
export async function prepareGuestImage(s: CheckedScenario, catalog: Catalog, opts: { signal?: AbortSignal; allowUnverified?: boolean } = {}): Promise<GuestImage> {
  const entry = s.entry;
  if (entry.build) {
    if (entry.build !== 'labos') throw new LabError(`image ${entry.name} is built from images/${entry.build}, which the lab cannot boot`, { ...where(s), fix: 'use image: labos' });
    const img = await ensureLabos({ signal: opts.signal });
    await checkBuiltImage(img);
    return { entry, boot: labosBoot(img), user: entry.user, probeKernel: img.kernel, key: img.key };
  }
  const { image, missing } = cachedImage(entry.name, catalog);
  if (!image) throw new LabError(`image ${entry.name} is not in the cache (missing: ${missing.join(', ')})`, { ...where(s), fix: pullHint(entry, missing) });
  await checkPulledImage(image, opts);
  const boot = pulledBoot(entry, image.files);
  // Cached files are named by their sha256 (content-addressed), so their paths identify the content.
  const key = createHash('sha256').update(JSON.stringify(Object.entries(image.files).sort())).digest('hex');
  return { entry, boot, user: entry.user, probeKernel: boot.kernel?.kernel ?? findBuiltImage('labos')?.kernel, key };
}
