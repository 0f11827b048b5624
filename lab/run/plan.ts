import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { loadCatalog, type Catalog, type CatalogEntry } from '../images/catalog.js';
import { labosBoot, pulledBoot, type BootSpec } from '../machine/boot.js';
import { LabError } from '../util/errors.js';
import { ensureLabos } from '../images/build.js';
import { cachedImage } from '../images/fetch.js';
import { findBuiltImage } from '../images/store.js';
import { checkBuiltImage, checkPulledImage } from '../images/integrity.js';
import { closest } from '../scenario/yamlsource.js';
import type { Plan } from '../scenario/loader.js';
import { ARTIFACTS, howToSupply, resolveArtifact, type ResolvedArtifact } from '../images/artifacts.js';
import { impliedArtifacts } from '../guestconfig/units.js';

/** The image a scenario's nodes boot: its catalog entry, how it boots, and who the lab logs in as. */
export interface GuestImage {
  entry: CatalogEntry;
  boot: BootSpec;
  user: string;
  /** A kernel to probe KVM with (the image's own, else labos's when built); none for a disk image alone. */
  probeKernel?: string;
  /** What identifies the image's content (labos: its recipe hash; downloaded: its files' digests), for checkpoint keys. */
  key: string;
}

/** Whether the image is built locally (labos) rather than downloaded. */
function isBuilt(entry: CatalogEntry): boolean {
  return !!entry.build;
}

/** A problem with a scenario's `image:` name (for the scenario check), with the closest catalog name. */
export function imageNameProblem(name: string, catalog: Catalog = loadCatalog()): { message: string; fix: string } | undefined {
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

function where(plan: Plan): { file: string; line?: number } {
  return { file: relative(process.cwd(), plan.file) || plan.file, line: plan.imageLine };
}

/**
 * Why the scenario cannot run here because of its image, or undefined when it can (labos is built
 * on demand; a downloaded image must be in the cache). For a skip with the reason, like a missing artifact.
 */
export function missingImage(plan: Plan, catalog: Catalog = loadCatalog()): string | undefined {
  const entry = catalog.get(plan.image);
  if (!entry || isBuilt(entry)) return undefined;
  const { missing } = cachedImage(entry.name, catalog);
  if (!missing.length) return undefined;
  return `it boots ${entry.name}, which is not in the image cache (missing: ${missing.join(', ')}); to run it: ${pullHint(entry, missing)}`;
}

/**
 * The scenario's image, ready to boot: labos from the build cache (built now if needed), a
 * downloaded image from the download cache. A downloaded image that is not cached, or a name the
 * catalog does not know, is a LabError naming the scenario file and the line of `image:`.
 */
export async function prepareGuestImage(plan: Plan, opts: { signal?: AbortSignal; catalog?: Catalog; allowUnverified?: boolean } = {}): Promise<GuestImage> {
  const catalog = opts.catalog ?? loadCatalog();
  const entry = catalog.get(plan.image);
  if (!entry) {
    const p = imageNameProblem(plan.image, catalog)!;
    throw new LabError(p.message, { ...where(plan), fix: p.fix });
  }
  if (isBuilt(entry)) {
    if (entry.build !== 'labos') throw new LabError(`image ${entry.name} is built from images/${entry.build}, which the lab cannot boot`, { ...where(plan), fix: 'use image: labos' });
    const img = await ensureLabos({ signal: opts.signal });
    await checkBuiltImage(img);
    return { entry, boot: labosBoot(img), user: entry.user, probeKernel: img.kernel, key: img.key };
  }
  const { image, missing } = cachedImage(entry.name, catalog);
  if (!image) {
    throw new LabError(`image ${entry.name} is not in the cache (missing: ${missing.join(', ')})`, { ...where(plan), fix: pullHint(entry, missing) });
  }
  await checkPulledImage(image, opts);
  const boot = pulledBoot(entry, image.files);
  // Cached files are named by their sha256 (content-addressed), so their paths identify the content.
  const key = createHash('sha256').update(JSON.stringify(Object.entries(image.files).sort())).digest('hex');
  return { entry, boot, user: entry.user, probeKernel: boot.kernel?.kernel ?? findBuiltImage('labos')?.kernel, key };
}

/** Every artifact the scenario needs on its image: what it requires, plus etcd/fleet an image without them needs. */
export function requiredArtifacts(plan: Plan, catalog: Catalog = loadCatalog()): string[] {
  const entry = catalog.get(plan.image);
  const implied = entry ? impliedArtifacts(entry, plan.nodes.map((n) => n.config)) : [];
  return [...new Set([...plan.requires, ...implied])];
}

/**
 * The required artifacts: those given (resolved by the runner) first, else from `dir`/the cache.
 * A missing one is a LabError saying how to supply it (the runner skips before it gets here).
 */
export async function guestArtifacts(plan: Plan, given: ResolvedArtifact[] = [], dir = process.env.CORELAB_ARTIFACTS, catalog?: Catalog): Promise<ResolvedArtifact[]> {
  const out: ResolvedArtifact[] = [];
  for (const name of requiredArtifacts(plan, catalog)) {
    const a = given.find((g) => g.spec.name === name) ?? (await resolveArtifact(name, dir));
    if (!a) throw new LabError(`scenario ${plan.name} needs ${name} ${ARTIFACTS[name].version} on ${plan.image}, which is not here`, { ...where(plan), fix: howToSupply(ARTIFACTS[name]) });
    out.push(a);
  }
  return out;
}
