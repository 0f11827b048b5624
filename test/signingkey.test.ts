// The key that signs a release's digest list: shipped, pinned by fingerprint, refetched when the
// publisher rotates its signing subkey. A mirror on 127.0.0.1 with throwaway keys; every test
// points CORELAB_CACHE at its own folder, so they run one at a time.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as openpgp from 'openpgp';
import { loadCatalog, type Catalog } from '../lab/images/catalog.js';
import { pullImage } from '../lab/images/fetch.js';
import { cachedKeyFile, signatureInfo, verifyingKeys } from '../lab/images/signingkey.js';
import { LabError } from '../lab/util/errors.js';
import { PROJECT_DIR } from '../lab/util/paths.js';
import { flatcarDigests, Mirror } from './helpers/mirror.js';
import { rejects } from './helpers/errors.js';

const serial = test.serial;
const REL = '/amd64-usr/4000.0.0/';
const IMG = 'flatcar_production_qemu_image.img';
const KEY_PATH = '/security/Signing_Key.asc';
const DAY = 86_400_000;

/** A publisher's key: a primary that certifies, and a signing subkey made 10 days ago that expired a day later. */
const publisher = openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'corelab test publisher' }], date: new Date(Date.now() - 10 * DAY), subkeys: [{ sign: true, keyExpirationTime: 86_400 }], format: 'object' });
/** The same primary with a new signing subkey: what the publisher serves after a rotation. */
const rotatedKey = publisher.then((k) => k.privateKey.addSubkey({ sign: true }));
/** Someone else's key, also with a fresh signing subkey. */
const impostor = openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'corelab test publisher' }], subkeys: [{ sign: true }], format: 'object' });

const fpr = (k: openpgp.Key): string => k.getFingerprint().toUpperCase();

interface Ctx {
  dir: string;
  mirror: Mirror;
  catalog: Catalog;
  image: Buffer;
  pin: string;
  shippedFile: string;
}

/** A catalog entry pinned to the publisher's fingerprint, its shipped key file holding `shipped`, its key_url on the mirror. */
async function setup(shipped: openpgp.Key, opts: { signAt?: Date; signer?: openpgp.PrivateKey } = {}): Promise<Ctx> {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-key-'));
  process.env.CORELAB_CACHE = join(dir, 'cache');
  const mirror = await new Mirror().start();
  const pin = fpr((await publisher).privateKey);
  const shippedFile = join(dir, 'shipped.asc');
  writeFileSync(shippedFile, shipped.toPublic().armor());
  writeFileSync(join(dir, 'catalog.yaml'), `
images:
  pinned-test:
    description: a release whose digest list is signed by a pinned key
    base: http://upstream.invalid${REL}
    files:
      disk: { url: "{base}${IMG}" }
    digests:
      url: "{base}${IMG}.DIGESTS.asc"
      signed: clearsigned
      key: ${relative(PROJECT_DIR, shippedFile)}
      key_fingerprint: ${pin.match(/.{4}/g)!.join(' ')}
      key_url: ${mirror.url}${KEY_PATH}
    format: qcow2
    boot: disk
    user: core
    config: [config-2]
    memory: 2048
`);
  const image = randomBytes(100_000);
  mirror.files.set(REL + IMG, image);
  const signer = opts.signer ?? (await rotatedKey);
  const text = flatcarDigests(IMG, image);
  const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: signer, date: opts.signAt });
  mirror.files.set(`${REL}${IMG}.DIGESTS.asc`, Buffer.from(signed));
  mirror.files.set(KEY_PATH, Buffer.from((await rotatedKey).toPublic().armor()));
  return { dir, mirror, catalog: loadCatalog(join(dir, 'catalog.yaml')), image, pin, shippedFile };
}

async function teardown(c: Ctx): Promise<void> {
  await c.mirror.stop();
  rmSync(c.dir, { recursive: true, force: true });
  delete process.env.CORELAB_CACHE;
}


serial('the pinned key shipped with the current subkey: the pull passes and the key is not fetched', async (t) => {
  const c = await setup(await rotatedKey);
  t.teardown(() => teardown(c));
  const img = await pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog });
  t.is(img.verified, 'signature');
  t.deepEqual(readFileSync(img.files.disk), c.image);
  t.is(c.mirror.count(KEY_PATH), 0);
  t.is(c.catalog.get('pinned-test')!.digests!.keyFingerprint, c.pin, 'the pin is read with its spaces dropped');
});

serial('a shipped key with another fingerprint is refused, naming both fingerprints, before any image byte', async (t) => {
  const imp = (await impostor).privateKey;
  const c = await setup(imp, { signer: imp });
  t.teardown(() => teardown(c));
  const err = await rejects(pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog }));
  t.regex(err.message, /^refused the OpenPGP key from .*shipped\.asc/);
  t.true(err.message.includes(fpr(imp)), 'names the key\'s fingerprint');
  t.true(err.message.includes(c.pin), 'and the pinned one');
  t.regex(err.fix!, /not the publisher's key/);
  t.is(c.mirror.count(IMG), 0);
});

serial('a rotated subkey missing from the shipped key: the key is fetched from key_url, accepted by its pin, cached, and not fetched again', async (t) => {
  const c = await setup((await publisher).privateKey);
  t.teardown(() => teardown(c));
  const img = await pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog });
  t.is(img.verified, 'signature');
  t.is(c.mirror.count(KEY_PATH), 1);
  t.true(existsSync(cachedKeyFile(c.pin)), 'the fetched key is kept in the cache');
  t.true(readFileSync(cachedKeyFile(c.pin), 'utf8').includes('BEGIN PGP PUBLIC KEY BLOCK'));

  // The next release, signed by the same new subkey: the cached key answers.
  const next = randomBytes(90_000);
  c.mirror.files.set(REL + IMG, next);
  c.mirror.files.set(`${REL}${IMG}.DIGESTS.asc`, Buffer.from(await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: flatcarDigests(IMG, next) }), signingKeys: await rotatedKey })));
  const again = await pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog, refresh: true });
  t.deepEqual(readFileSync(again.files.disk), next);
  t.is(c.mirror.count(KEY_PATH), 1, 'no second key request');

  // --offline checks with the shipped or cached key only.
  const entry = c.catalog.get('pinned-test')!;
  const info = await signatureInfo({ clearsigned: c.mirror.files.get(`${REL}${IMG}.DIGESTS.asc`)!.toString() }, 'x');
  t.is(fpr((await verifyingKeys(entry, info, { offline: true }))[0]), c.pin);
});

serial('key_url serving a key with another fingerprint is refused, naming both', async (t) => {
  const imp = (await impostor).privateKey;
  const c = await setup((await publisher).privateKey, { signer: imp });
  t.teardown(() => teardown(c));
  c.mirror.files.set(KEY_PATH, Buffer.from(imp.toPublic().armor()));
  const err = await rejects(pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog }));
  t.regex(err.message, new RegExp(`^refused the OpenPGP key from ${c.mirror.url}${KEY_PATH}: its primary key fingerprint is ${fpr(imp)}, but the catalog pins ${c.pin}`));
  t.truthy(err.fix);
  t.is(c.mirror.count(IMG), 0);
  t.false(existsSync(cachedKeyFile(c.pin)), 'an impostor key is not cached');
});

serial('--offline with a subkey the shipped key lacks fails clearly, and sends nothing', async (t) => {
  const c = await setup((await publisher).privateKey);
  t.teardown(() => teardown(c));
  const entry = c.catalog.get('pinned-test')!;
  const info = await signatureInfo({ clearsigned: c.mirror.files.get(`${REL}${IMG}.DIGESTS.asc`)!.toString() }, 'x');
  const newSub = (await rotatedKey).subkeys[1].getKeyID().toHex().toUpperCase();
  const err = await rejects(verifyingKeys(entry, info, { offline: true }));
  t.regex(err.message, /^offline: pinned-test's digest list is signed by subkey [0-9A-F]{16} on \d{4}-\d\d-\d\d, which the key file .*shipped\.asc lacks/);
  t.true(err.message.includes(newSub));
  t.true(err.message.includes(`${c.mirror.url}${KEY_PATH}`), 'says where the key would come from');
  t.regex(err.fix!, /without --offline.*--key FILE/);
  t.is(c.mirror.count(), 0);
});

serial('a release signed by a subkey that has expired since is checked at the signature\'s time, with the shipped key', async (t) => {
  const old = (await publisher).privateKey;
  const c = await setup(old, { signer: old, signAt: new Date(Date.now() - 9.5 * DAY) });
  t.teardown(() => teardown(c));
  const img = await pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog });
  t.is(img.verified, 'signature');
  t.is(c.mirror.count(KEY_PATH), 0, 'valid then, so no fetch');
});

serial('--key overrides the shipped key and its pin', async (t) => {
  const imp = (await impostor).privateKey;
  const c = await setup((await publisher).privateKey, { signer: imp });
  t.teardown(() => teardown(c));
  const img = await pullImage('pinned-test', { mirror: c.mirror.url, catalog: c.catalog, key: imp.toPublic().armor() });
  t.is(img.verified, 'signature');
  t.is(c.mirror.count(KEY_PATH), 0);
});

test('the shipped Flatcar key is the one the catalog pins, with a signing subkey', async (t) => {
  const catalog = loadCatalog();
  for (const name of ['flatcar-stable', 'flatcar-3815.2.5']) {
    const d = catalog.get(name)!.digests!;
    t.is(d.keyFingerprint, 'F88CFEDEFF29A5B4D9523864E25D9AED0593B34A');
    t.is(d.keyUrl, 'https://www.flatcar.org/security/image-signing-key/Flatcar_Image_Signing_Key.asc');
    t.is(relative(PROJECT_DIR, d.key!), 'images/keys/flatcar-image-signing-key.asc');
  }
  const key = await openpgp.readKey({ armoredKey: readFileSync(join(PROJECT_DIR, 'images/keys/flatcar-image-signing-key.asc'), 'utf8') });
  t.is(fpr(key), 'F88CFEDEFF29A5B4D9523864E25D9AED0593B34A');
  t.deepEqual(key.getUserIDs(), ['Flatcar Buildbot (Official Builds) <buildbot@flatcar-linux.org>']);
  // Its 2025 signing subkey (valid until 2027-03-08) is in the file and valid when it was made.
  const sub = key.subkeys.find((s) => s.getKeyID().toHex() === '32da80f91ef52974');
  t.truthy(sub);
  t.truthy(await key.getSigningKey(sub!.getKeyID(), new Date('2025-06-01')));
});

test('a key_url without a pinned fingerprint is refused by the catalog check', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-key-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'catalog.yaml'), `images:
  x:
    description: x
    base: http://upstream.invalid/x/
    files: { disk: { url: "{base}x.img" } }
    digests: { url: "{base}SUMS.asc", signed: clearsigned, key: images/keys/x.asc, key_url: "http://upstream.invalid/key.asc" }
    format: qcow2
    boot: disk
    user: core
    config: [config-2]
    memory: 2048
  y:
    description: y
    base: http://upstream.invalid/y/
    files: { disk: { url: "{base}y.img" } }
    digests: { url: "{base}SUMS.asc", signed: clearsigned, key: images/keys/y.asc, key_fingerprint: "F88C FEDE" }
    format: qcow2
    boot: disk
    user: core
    config: [config-2]
    memory: 2048
`);
  const err = t.throws(() => loadCatalog(join(dir, 'catalog.yaml')))!;
  t.regex((err as LabError & { format(): string }).format(), /catalog\.yaml:6:\d+: x\.digests\.key_url needs key_fingerprint/);
  t.regex((err as LabError & { format(): string }).format(), /catalog\.yaml:16:\d+: y\.digests\.key_fingerprint must be the primary key's fingerprint/);
});
