import * as openpgp from 'openpgp';
import { LabError } from '../util/errors.js';
import type { Digest, HashAlgo } from './types.js';


const ALGO_HEX: Record<string, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

export type DigestList = Map<string, Partial<Record<HashAlgo, string>>>;

/**
 * A release's checksum list: Flatcar's DIGESTS (`# SHA512 HASH` headers, then `<hex>  <file>`),
 * RancherOS's checksums.txt (`sha256: <hex>  <file>`), or plain sha256sum/sha512sum output.
 * MD5 and SHA1 lines are read past.
 */
export function parseDigests(text: string): DigestList {
  const list: DigestList = new Map();
  let header: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const h = line.match(/^#\s*([A-Za-z0-9]+)\s+HASH\s*$/i);
    if (h) {
      header = h[1].toLowerCase();
      continue;
    }
    const m = line.match(/^(?:([a-z0-9]+):\s+)?([0-9a-fA-F]{32,128})\s+\*?(.+)$/);
    if (!m) continue;
    const hex = m[2].toLowerCase();
    const byLength = ({ 64: 'sha256', 128: 'sha512' } as Record<number, string>)[hex.length];
    const algo = m[1]?.toLowerCase() ?? (header && ALGO_HEX[header] === hex.length ? header : byLength);
    if ((algo !== 'sha256' && algo !== 'sha512') || hex.length !== (algo === 'sha256' ? 64 : 128)) continue;
    const name = m[3].trim().split('/').pop()!;
    list.set(name, { ...list.get(name), [algo]: hex });
  }
  return list;
}

/** The strongest digest the list gives for name. */
export function digestFor(list: DigestList, name: string): Digest | undefined {
  const d = list.get(name);
  if (d?.sha512) return { algo: 'sha512', hex: d.sha512 };
  if (d?.sha256) return { algo: 'sha256', hex: d.sha256 };
  return undefined;
}

/** Armored OpenPGP public keys; what names where they came from, for errors. */
export async function readPublicKeys(armored: string, what: string): Promise<openpgp.Key[]> {
  try {
    return await openpgp.readKeys({ armoredKeys: armored });
  } catch (err) {
    throw new LabError(`${what} is not an armored OpenPGP public key: ${(err as Error).message}`, { fix: 'use the .asc key file as published (it starts with -----BEGIN PGP PUBLIC KEY BLOCK-----)' });
  }
}

/** The text of a clearsigned message, once its signature checks out with one of keys (at date, default now). */
export async function verifyClearsigned(text: string, keys: openpgp.Key[], what: string, date?: Date): Promise<string> {
  try {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: text });
    const result = await openpgp.verify({ message, verificationKeys: keys, expectSigned: true, date });
    return String(result.data);
  } catch (err) {
    throw signatureError(what, err);
  }
}

/** Checks a detached signature (armored or binary) over data (at date, default now). */
export async function verifyDetached(data: Uint8Array, signature: Uint8Array, keys: openpgp.Key[], what: string, date?: Date): Promise<void> {
  try {
    const text = Buffer.from(signature).toString('latin1');
    const sig = text.startsWith('-----BEGIN PGP SIGNATURE') ? await openpgp.readSignature({ armoredSignature: text }) : await openpgp.readSignature({ binarySignature: signature });
    const message = await openpgp.createMessage({ binary: data });
    await openpgp.verify({ message, signature: sig, verificationKeys: keys, expectSigned: true, format: 'binary', date });
  } catch (err) {
    throw signatureError(what, err);
  }
}

function signatureError(what: string, err: unknown): LabError {
  return new LabError(`signature check failed for ${what}: ${(err as Error).message}`, {
    cause: err,
    fix: 'nothing was downloaded or kept. The file was tampered with or damaged (use another --mirror), or it was signed by a key you did not mean (check --key FILE)',
  });
}
