import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as openpgp from 'openpgp';
import { resolveUrl, type CatalogEntry } from './catalog.js';
import { fetchBytes, readPublicKeys, writeAtomic } from '../download/download.js';
import { LabError } from '../util/errors.js';
import { log, warn } from '../util/log.js';
import { cacheDir, PROJECT_DIR } from '../util/paths.js';

/**
 * Which key signed a digest list, and when. The keys that may check it are the shipped key file,
 * else a copy fetched earlier from the catalog's key_url, else key_url fetched now; each is used
 * only if its primary fingerprint is the pinned one, and the signature is checked at its own time.
 */
export interface SignatureInfo {
  /** Key IDs the signature names. */
  keyIDs: openpgp.KeyID[];
  /** When it was made (its creation time). */
  created: Date;
}

export interface KeyOptions {
  /** --key: a file, or the armored key itself; overrides the catalog's key and its pin. */
  key?: string;
  offline?: boolean;
  mirror?: string;
  signal?: AbortSignal;
}

/** The signer and time of a clearsigned text, or of a detached signature (armored or binary). */
export async function signatureInfo(signed: { clearsigned: string } | { detached: Uint8Array }, what: string): Promise<SignatureInfo> {
  let sig: openpgp.Signature;
  try {
    if ('clearsigned' in signed) sig = ((await openpgp.readCleartextMessage({ cleartextMessage: signed.clearsigned })) as unknown as { signature: openpgp.Signature }).signature;
    else {
      const text = Buffer.from(signed.detached).toString('latin1');
      sig = text.startsWith('-----BEGIN PGP SIGNATURE') ? await openpgp.readSignature({ armoredSignature: text }) : await openpgp.readSignature({ binarySignature: signed.detached });
    }
  } catch (err) {
    throw new LabError(`signature check failed for ${what}: it holds no readable OpenPGP signature (${(err as Error).message})`, {
      fix: 'nothing was downloaded or kept; the file is damaged or not what the catalog says: check the digests url, or use another --mirror',
    });
  }
  const packets = sig.packets.filter((p) => p.created);
  const created = packets.map((p) => p.created!).sort((a, b) => b.getTime() - a.getTime())[0] ?? new Date();
  return { keyIDs: sig.getSigningKeyIDs(), created };
}

const fingerprint = (k: openpgp.Key): string => k.getFingerprint().toUpperCase();
const shown = (file: string): string => (file.startsWith(PROJECT_DIR) ? relative(PROJECT_DIR, file) : file);

/** Where a key fetched from key_url is kept: by its pinned fingerprint, so every entry with that pin shares it. */
export function cachedKeyFile(pin: string): string {
  return join(cacheDir(), 'keys', `${pin}.asc`);
}

/** Whether key has a signing (sub)key named by the signature that was valid when it was made. */
async function canVerify(key: openpgp.Key, info: SignatureInfo): Promise<boolean> {
  for (const id of info.keyIDs) {
    try {
      await key.getSigningKey(id, info.created);
      return true;
    } catch {
      /* not this one, or not valid then */
    }
  }
  return false;
}

/** The key in armored with the pinned primary fingerprint; any other key is refused naming both fingerprints. */
async function pinned(armored: string, pin: string | undefined, where: string): Promise<openpgp.Key> {
  const keys = await readPublicKeys(armored, where);
  if (!pin) return keys[0];
  const key = keys.find((k) => fingerprint(k) === pin);
  if (key) return key;
  throw new LabError(`refused the OpenPGP key from ${where}: its primary key fingerprint is ${keys.map(fingerprint).join(', ')}, but the catalog pins ${pin}`, {
    fix: `this is not the publisher's key: restore the key file from the repository, use a --mirror you trust, or (only if the publisher really changed its primary key, as its website says) change key_fingerprint in images/catalog.yaml`,
  });
}

function describe(info: SignatureInfo): string {
  return `subkey ${info.keyIDs.map((k) => k.toHex().toUpperCase()).join(' or ')} on ${info.created.toISOString().slice(0, 10)}`;
}

/**
 * The keys to check a signature of entry's digest list with: --key as given; else the shipped key
 * file, else the cached copy of key_url, else key_url fetched now (through the lab's downloader,
 * cached), the first that has the signature's subkey valid at the signature's time.
 */
export async function verifyingKeys(entry: CatalogEntry, info: SignatureInfo, opts: KeyOptions = {}): Promise<openpgp.Key[]> {
  const d = entry.digests!;
  const pin = d.keyFingerprint;
  if (opts.key) return givenKey(entry, opts.key, pin);
  const file = d.key;
  const shipped = file && existsSync(file) ? await pinned(readFileSync(file, 'utf8'), pin, shown(file)) : undefined;
  if (shipped && (await canVerify(shipped, info))) return [shipped];
  const cache = pin && cachedKeyFile(pin);
  const cached = cache && existsSync(cache) ? await pinned(readFileSync(cache, 'utf8'), pin, cache) : undefined;
  if (cached && (await canVerify(cached, info))) return [cached];
  const lacks = `${entry.name}'s digest list is signed by ${describe(info)}, which ${shipped ? `the key file ${shown(file!)} lacks (or which had expired then)` : `no key file has (${file ? `${shown(file)} is missing` : 'the catalog names none'})`}`;
  if (!d.keyUrl) {
    requireKeySource(entry, opts);
    return [shipped!]; // no key to fetch: the signature check says why it fails
  }
  const url = resolveUrl(d.keyUrl, entry, opts.mirror);
  if (opts.offline) {
    throw new LabError(`offline: ${lacks}; its current key would be fetched from ${url}, which --offline forbids`, {
      fix: `run without --offline once (the key is accepted only with fingerprint ${pin}, and cached), or pass --key FILE with the publisher's current key`,
    });
  }
  log(`${lacks}: fetching the publisher's current key from ${url}`);
  const text = (await fetchBytes(url, { signal: opts.signal })).toString('utf8');
  const fetched = await pinned(text, pin, url);
  mkdirSync(join(cacheDir(), 'keys'), { recursive: true });
  writeAtomic(cachedKeyFile(pin!), text);
  if (await canVerify(fetched, info)) {
    log(`${url}: key ${pin} accepted (pinned fingerprint), cached at ${cachedKeyFile(pin!)}`);
    return [fetched];
  }
  throw new LabError(`${lacks}, and so does the current key from ${url}`, {
    fix: 'nothing was downloaded; the digest list was signed by a key the publisher does not (or no longer) vouch for: use another --mirror, or pass --key FILE if you know better',
  });
}

/** Before any request: a signed entry with neither --key, a key file nor a key_url cannot be checked at all. */
export function requireKeySource(entry: CatalogEntry, opts: KeyOptions = {}): void {
  const d = entry.digests;
  if (!d || d.signed === 'none' || opts.key || d.keyUrl || (d.key && existsSync(d.key))) return;
  throw new LabError(`the OpenPGP key that signs ${entry.name}'s digests is missing: ${d.key ? shown(d.key) : 'images/keys/'}`, {
    fix: `place the publisher's signing key at ${d.key ? shown(d.key) : 'images/keys/NAME.asc'} (see images/keys/README.md) or pass --key FILE`,
  });
}

/** --key: trusted as given; a fingerprint other than the pinned one is said, not refused. */
async function givenKey(entry: CatalogEntry, key: string, pin?: string): Promise<openpgp.Key[]> {
  const inline = key.includes('-----BEGIN PGP');
  if (!inline && !existsSync(key)) throw new LabError(`no such key file: ${key}`, { fix: 'pass --key FILE with an armored OpenPGP public key' });
  const keys = await readPublicKeys(inline ? key : readFileSync(key, 'utf8'), inline ? 'the --key given' : key);
  if (pin && !keys.some((k) => fingerprint(k) === pin)) warn(`--key ${inline ? '(inline)' : key} has fingerprint ${keys.map(fingerprint).join(', ')}, not the ${pin} that images/catalog.yaml pins for ${entry.name}; using it because you asked`);
  return keys;
}
