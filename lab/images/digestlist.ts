import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageMirror, resolveUrl, type CatalogEntry } from './catalog.js';
import { fetchBytes, parseDigests, verifyClearsigned, verifyDetached, writeAtomic, type DigestList } from '../download/download.js';
import { requireKeySource, signatureInfo, verifyingKeys, type KeyOptions } from './signingkey.js';
import { LabError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';

/** A release's digest list, as checked: where from, its lines, and whether a signature vouched for it. */
export interface Digests {
  url: string;
  list: DigestList;
  text: string;
  by: 'signature' | 'digest';
}

export function pulledDir(name: string): string {
  return join(cacheDir(), 'pulled', name);
}

/**
 * The entry's digest list, fetched (through the mirror) and, when it is signed, checked with the
 * key that signed it (see signingkey.ts) at the signature's own time.
 */
export async function fetchDigests(entry: CatalogEntry, mirror: string | undefined, opts: KeyOptions): Promise<Digests> {
  const d = entry.digests;
  if (!d) throw new LabError(`image ${entry.name} has no digests in the catalog, so its files cannot be checked`, { fix: 'add digests: to its entry in images/catalog.yaml' });
  const url = resolveUrl(d.url, entry, mirror);
  requireKeySource(entry, opts);
  const body = await fetchBytes(url, { signal: opts.signal });
  let text = body.toString('utf8');
  if (d.signed === 'clearsigned') {
    const info = await signatureInfo({ clearsigned: text }, url);
    text = await verifyClearsigned(text, await verifyingKeys(entry, info, { ...opts, mirror }), url, info.created);
  }
  if (d.signed === 'detached') {
    const sigUrl = resolveUrl(d.signature!, entry, mirror);
    const sig = await fetchBytes(sigUrl, { signal: opts.signal });
    const what = `${url} (signature ${sigUrl})`;
    const info = await signatureInfo({ detached: sig }, what);
    await verifyDetached(body, sig, await verifyingKeys(entry, info, { ...opts, mirror }), what, info.created);
  }
  const list = parseDigests(text);
  if (list.size === 0) throw new LabError(`${url} holds no sha256 or sha512 lines`, { fix: 'check the digests url of this image in images/catalog.yaml' });
  return { url, list, text, by: d.signed === 'none' ? 'digest' : 'signature' };
}

export function saveDigests(name: string, d: Digests): void {
  mkdirSync(pulledDir(name), { recursive: true });
  writeAtomic(join(pulledDir(name), 'digests.json'), JSON.stringify({ url: d.url, by: d.by, text: d.text }, null, 2) + '\n');
}

function cachedDigests(name: string): Digests | undefined {
  try {
    const d = JSON.parse(readFileSync(join(pulledDir(name), 'digests.json'), 'utf8')) as { url: string; by: Digests['by']; text: string };
    return { ...d, list: parseDigests(d.text) };
  } catch {
    return undefined;
  }
}

/** Cached digests, else fetched unless offline; undefined (with the reason) when they cannot be had. */
export async function digestsFor(entry: CatalogEntry, opts: KeyOptions & { mirror?: string }): Promise<{ digests?: Digests; why?: string }> {
  const cached = cachedDigests(entry.name);
  if (cached) return { digests: cached };
  if (opts.offline) return { why: 'its digest list is not cached and --offline forbids fetching it' };
  try {
    const digests = await fetchDigests(entry, imageMirror(opts.mirror), opts);
    saveDigests(entry.name, digests);
    return { digests };
  } catch (err) {
    if (err instanceof LabError && /^(signature check failed|refused the OpenPGP key)/.test(err.message)) throw err;
    return { why: `its digest list could not be had: ${(err as Error).message}` };
  }
}
