import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { cacheDir } from '../util/paths.js';
import { LabError } from '../util/errors.js';
import { indent } from '../util/text.js';
import { requireTools } from '../host/tools.js';
import { CONTAINER_REF } from '../scenario/schema.js';
import { sha256File } from './filehash.js';

/**
 * Container images a user imported once from an archive (`docker save`, or `skopeo copy ...
 * docker-archive:FILE`), for the registry mirror to serve: RancherOS's rancher/os:v1.5.7 that `ros os
 * upgrade -i` pulls, rancher/os-docker:18.09.9 that `ros engine switch` pulls. Each is kept as an
 * OCI layout (tag "latest") beside a container.json recording the archive's sha256 and the
 * manifest digest, under ~/.cache/corelab/containers.
 */
export interface ImportedContainer {
  ref: string;
  /** The OCI image layout, tag "latest", for Registry.seed(). */
  oci: string;
  /** sha256 of the imported archive file. */
  archiveSha256: string;
  /** The image manifest's digest in the layout (sha256:...). */
  manifestDigest: string;
  importedAt: string;
}

/** The command that supplies a container image, for skip reasons and errors. */
export function importHint(ref: string): string {
  return `on a machine with docker: docker pull ${ref} && docker save ${ref} -o image.tar (or skopeo copy docker://${ref} docker-archive:image.tar:${ref}), then here: corelab images import-container ${ref} image.tar`;
}

export function containersDir(): string {
  return join(cacheDir(), 'containers');
}

/** The cache folder of a reference: readable, and distinct for every reference (a hash of it). */
function slot(ref: string): string {
  return join(containersDir(), `${ref.replace(/[^A-Za-z0-9._-]/g, '_')}-${createHash('sha256').update(ref).digest('hex').slice(0, 8)}`);
}

/** The repository path and tag a Docker Hub mirror serves a reference under (nginx → library/nginx). */
export function mirrorPath(ref: string): { repo: string; tag: string } {
  const i = ref.lastIndexOf(':');
  const repo = ref.slice(0, i);
  return { repo: repo.includes('/') ? repo : `library/${repo}`, tag: ref.slice(i + 1) };
}

function checkRef(ref: string): void {
  if (!CONTAINER_REF.test(ref)) throw new LabError(`"${ref.slice(0, 80)}" is not a container image reference REPO:TAG`, { fix: 'name it as a step requires it, e.g. rancher/os:v1.5.7' });
  if (ref.split('/')[0].includes('.')) throw new LabError(`"${ref.slice(0, 80)}" names a registry host; the lab's mirror stands in for Docker Hub only`, { fix: 'name the image as Docker Hub does, e.g. rancher/os:v1.5.7' });
}

/** The imported image of a reference, if it is in the cache and its layout is whole. */
export function cachedContainer(ref: string): ImportedContainer | undefined {
  const dir = slot(ref);
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'container.json'), 'utf8')) as ImportedContainer;
    if (meta.ref !== ref || manifestDigestOf(join(dir, 'oci')) !== meta.manifestDigest) return undefined;
    return { ...meta, oci: join(dir, 'oci') };
  } catch {
    return undefined;
  }
}

/** Takes a `docker save` / docker-archive tar into the cache as ref; returns what was recorded. */
export async function importContainer(ref: string, file: string): Promise<ImportedContainer> {
  checkRef(ref);
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new LabError(`no archive at ${file}`, { fix: importHint(ref) });
  requireTools(['skopeo'], 'importing a container image');
  const dir = slot(ref);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await copyArchive(path, ref, join(tmp, 'oci'));
    const recorded = { ref, archive: basename(path), archiveSha256: (await sha256File(path)).sha256, manifestDigest: manifestDigestOf(join(tmp, 'oci')), importedAt: new Date().toISOString() };
    writeFileSync(join(tmp, 'container.json'), JSON.stringify(recorded, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { ...recorded, oci: join(dir, 'oci') };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** skopeo copy of the archive's only image, or (an archive of several) of the one tagged ref. */
async function copyArchive(path: string, ref: string, oci: string): Promise<void> {
  const errors: string[] = [];
  for (const src of [`docker-archive:${path}`, `docker-archive:${path}:${ref}`]) {
    const r = await execa('skopeo', ['--insecure-policy', 'copy', '--quiet', src, `oci:${oci}:latest`], { reject: false, all: true });
    if (r.exitCode === 0) return;
    errors.push(`${src}: ${(r.all ?? '').trim()}`);
    rmSync(oci, { recursive: true, force: true });
  }
  throw new LabError(`skopeo could not read ${path} as a docker-archive of ${ref}:\n${indent(errors.join('\n'))}`, {
    fix: `make the archive with docker save ${ref} -o FILE.tar (or skopeo copy docker://${ref} docker-archive:FILE.tar:${ref})`,
  });
}

function manifestDigestOf(oci: string): string {
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as { manifests?: Array<{ digest?: string }> };
  const digest = index.manifests?.[0]?.digest;
  if (!digest) throw new LabError(`${oci} has no manifest in its index.json`, { fix: 'import the archive again' });
  return digest;
}
