import test from 'ava';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { loadCatalog, type Catalog } from '../lab/images/catalog.js';
import { parseDigests } from '../lab/download/download.js';
import { importImage, listImages, pullImage, removeImage, verifyImage } from '../lab/images/fetch.js';
import { clearsign, flatcarDigests, hex, Mirror } from './helpers/mirror.js';
import { rejects } from './helpers/errors.js';

// Every test points CORELAB_CACHE at its own folder, so they run one at a time.
const serial = test.serial;

const FLATCAR = '/amd64-usr/9999.0.0/';
const RANCHER = '/rancher/os/releases/download/v1.5.8/';
const IMG = 'flatcar_production_qemu_image.img';
const CURRENT = '/amd64-usr/current/';
const DETACHED = '/detached/1.0/';

const CATALOG = `
images:
  flatcar-test:
    description: a Flatcar-like release
    base: http://upstream.invalid${FLATCAR}
    files:
      disk: { url: "{base}${IMG}" }
    digests: { url: "{base}${IMG}.DIGESTS.asc", signed: clearsigned, key: images/keys/no-such-key.asc }
    format: qcow2
    boot: disk
    user: core
    config: [ignition-fw_cfg]
    fw_cfg_name: opt/org.flatcar-linux/config
    memory: 2048
  flatcar-bz2:
    description: the same, compressed
    base: http://upstream.invalid${FLATCAR}
    files:
      disk: { url: "{base}${IMG}.bz2", decompress: bz2 }
    digests: { url: "{base}${IMG}.bz2.DIGESTS.asc", signed: clearsigned, key: images/keys/no-such-key.asc }
    format: qcow2
    boot: disk
    user: core
    config: [config-2]
    memory: 2048
  flatcar-current:
    description: a moving Flatcar-like release (current)
    base: http://upstream.invalid${CURRENT}
    files:
      disk: { url: "{base}${IMG}" }
    digests: { url: "{base}${IMG}.DIGESTS.asc", signed: clearsigned, key: images/keys/no-such-key.asc }
    format: qcow2
    boot: disk
    user: core
    config: [ignition-fw_cfg]
    fw_cfg_name: opt/org.flatcar-linux/config
    memory: 2048
  detached-test:
    description: a release whose digest list has a detached signature
    base: http://upstream.invalid${DETACHED}
    files:
      disk: { url: "{base}${IMG}" }
    digests: { url: "{base}SHA512SUMS", signed: detached, signature: "{base}SHA512SUMS.sig", key: images/keys/no-such-key.asc }
    format: qcow2
    boot: disk
    user: core
    config: [config-2]
    memory: 2048
  rancheros-test:
    description: a RancherOS-like release
    base: http://upstream.invalid${RANCHER}
    files:
      kernel: { url: "{base}vmlinuz" }
      initrd: { url: "{base}initrd" }
    digests: { url: "{base}checksums.txt", signed: none }
    format: kernel+initrd
    boot: kernel
    user: rancher
    config: [config-2]
    memory: 2048
`;

const keyPair = () => openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'corelab test signing key' }], format: 'armored' });
const keys = keyPair();
const otherKeys = keyPair();

interface Ctx {
  mirror: Mirror;
  cache: string;
  catalog: Catalog;
  image: Buffer;
  publicKey: string;
  opts: { mirror: string; key: string; catalog: Catalog };
}

async function setup(): Promise<Ctx> {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-dl-'));
  const cache = join(dir, 'cache');
  process.env.CORELAB_CACHE = cache;
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  const catalog = loadCatalog(join(dir, 'catalog.yaml'));
  const { privateKey, publicKey } = await keys;
  const mirror = await new Mirror().start();
  const image = randomBytes(300_000);
  mirror.files.set(FLATCAR + IMG, image);
  mirror.files.set(`${FLATCAR}${IMG}.DIGESTS`, Buffer.from(flatcarDigests(IMG, image)));
  mirror.files.set(`${FLATCAR}${IMG}.DIGESTS.asc`, Buffer.from(await clearsign(flatcarDigests(IMG, image), privateKey)));
  return { mirror, cache, catalog, image, publicKey, opts: { mirror: mirror.url, key: publicKey, catalog } };
}

async function teardown(c: Ctx): Promise<void> {
  await c.mirror.stop();
  rmSync(join(c.cache, '..'), { recursive: true, force: true });
  delete process.env.CORELAB_CACHE;
}

/** Every file under the cache (empty folders such as locks/ do not count). */
function cachedFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? cachedFiles(join(root, e.name)) : [join(root, e.name)]));
}


serial('a good pull is verified by signature, cached, and a second pull sends no request', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const img = await pullImage('flatcar-test', c.opts);
  t.is(img.verified, 'signature');
  t.is(hex('sha256', readFileSync(img.files.disk)), hex('sha256', c.image));
  t.true(img.files.disk.startsWith(join(c.cache, 'downloads', 'sha256')));
  const seen = c.mirror.count();
  t.is(seen, 2, 'the signed DIGESTS and the image');

  const again = await pullImage('flatcar-test', c.opts);
  t.is(again.files.disk, img.files.disk);
  t.is(c.mirror.count(), seen, 'served from the cache');
  const row = listImages({ catalog: c.catalog }).find((i) => i.name === 'flatcar-test')!;
  t.like(row, { cached: true, size: c.image.length, verified: 'signature', missing: [] });
  t.deepEqual(await verifyImage('flatcar-test', c.opts), { name: 'flatcar-test', verified: 'signature', files: { disk: 'signature' } });

  t.is(removeImage('flatcar-test', { catalog: c.catalog }), c.image.length);
  t.false(existsSync(img.files.disk));
  t.like(listImages({ catalog: c.catalog }).find((i) => i.name === 'flatcar-test')!, { cached: false, size: 0 });
});

serial('RancherOS checksums.txt (sha256: lines) verifies each file, marked digest-only', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const kernel = randomBytes(50_000);
  const initrd = randomBytes(70_000);
  const sums = [['vmlinuz', kernel], ['initrd', initrd]].flatMap(([n, b]) => [`sha256: ${hex('sha256', b as Buffer)}  ${n}`, `md5: ${hex('md5', b as Buffer)}  ${n}`]).join('\n');
  c.mirror.files.set(`${RANCHER}vmlinuz`, kernel);
  c.mirror.files.set(`${RANCHER}initrd`, initrd);
  c.mirror.files.set(`${RANCHER}checksums.txt`, Buffer.from(sums + '\n'));
  const img = await pullImage('rancheros-test', c.opts);
  t.is(img.verified, 'digest');
  t.deepEqual(readFileSync(img.files.kernel), kernel);
  t.deepEqual(readFileSync(img.files.initrd), initrd);
});

serial('a connection cut halfway is resumed with Range and the result hashes right', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  c.mirror.modes.set(FLATCAR + IMG, 'cut-once');
  const img = await pullImage('flatcar-test', c.opts);
  const reqs = c.mirror.requests.filter((r) => r.path.endsWith(IMG));
  t.is(reqs.length, 2);
  t.is(reqs[0].range, undefined);
  const m = reqs[1].range?.match(/^bytes=(\d+)-$/);
  t.truthy(m, 'the second request asks for the rest');
  t.true(Number(m![1]) > 0 && Number(m![1]) <= c.image.length / 2);
  t.is(hex('sha512', readFileSync(img.files.disk)), hex('sha512', c.image));
  t.deepEqual(cachedFiles(join(c.cache, 'downloads', 'partial')), [], 'no .part left');
});

serial('a wrong digest is reported as a digest mismatch and nothing is cached', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const bad = Buffer.from(c.image);
  bad[1000] ^= 0xff;
  c.mirror.files.set(FLATCAR + IMG, bad);
  const err = await rejects(pullImage('flatcar-test', c.opts));
  t.regex(err.message, /digest mismatch/);
  t.regex(err.message, new RegExp(IMG));
  t.notRegex(err.message, /signature/);
  t.deepEqual(cachedFiles(c.cache), []);
});

serial('a DIGESTS.asc signed by another key fails the signature check before any image byte is fetched', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  c.mirror.files.set(`${FLATCAR}${IMG}.DIGESTS.asc`, Buffer.from(await clearsign(flatcarDigests(IMG, c.image), (await otherKeys).privateKey)));
  const err = await rejects(pullImage('flatcar-test', c.opts));
  t.regex(err.message, /signature check failed/);
  t.regex(err.message, /DIGESTS\.asc/);
  t.is(c.mirror.count(IMG), 0);
  t.deepEqual(cachedFiles(c.cache), []);
});

serial('a tampered clearsigned DIGESTS fails the signature check', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const signed = await clearsign(flatcarDigests(IMG, c.image), (await keys).privateKey);
  const other = hex('sha512', randomBytes(10));
  c.mirror.files.set(`${FLATCAR}${IMG}.DIGESTS.asc`, Buffer.from(signed.replace(hex('sha512', c.image), other)));
  t.regex((await rejects(pullImage('flatcar-test', c.opts))).message, /signature check failed/);
  t.deepEqual(cachedFiles(c.cache), []);
});

serial('a missing signing key is named, with where to put it', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const err = await rejects(pullImage('flatcar-test', { ...c.opts, key: undefined }));
  t.regex(err.message, /images\/keys\/no-such-key\.asc/);
  t.regex(err.fix!, /--key FILE/);
  t.is(c.mirror.count(), 0);
});

serial('a truncated download from a server that cannot resume is an error and nothing is cached', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  c.mirror.modes.set(FLATCAR + IMG, 'lie');
  const err = await rejects(pullImage('flatcar-test', c.opts));
  t.regex(err.message, /broke off/);
  t.regex(err.message, /cannot resume/);
  t.is(c.mirror.count(IMG), 1);
  t.deepEqual(cachedFiles(c.cache), []);
});

serial('a 404 names the URL and suggests --mirror, --offline and import', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  c.mirror.files.delete(FLATCAR + IMG);
  const err = await rejects(pullImage('flatcar-test', c.opts));
  t.true(err.message.includes(`${c.mirror.url}${FLATCAR}${IMG}`));
  t.regex(err.message, /404/);
  t.regex(err.fix!, /--mirror/);
  t.regex(err.fix!, /--offline/);
  t.regex(err.fix!, /corelab images import/);
  t.deepEqual(cachedFiles(c.cache), []);
});

serial('offline mode names the missing file and the import command, and sends nothing', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const err = await rejects(pullImage('flatcar-test', { ...c.opts, offline: true }));
  t.regex(err.message, /offline/);
  t.true(err.message.includes(IMG));
  t.true(err.fix!.includes(`corelab images import flatcar-test /path/to/${IMG}`));
  t.is(c.mirror.count(), 0);
});

serial('a .bz2 file is verified as published and cached decompressed', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const raw = join(c.cache, '..', IMG);
  writeFileSync(raw, c.image);
  const bz2 = execFileSync('bzip2', ['-c', raw]);
  c.mirror.files.set(`${FLATCAR}${IMG}.bz2`, bz2);
  c.mirror.files.set(`${FLATCAR}${IMG}.bz2.DIGESTS.asc`, Buffer.from(await clearsign(flatcarDigests(`${IMG}.bz2`, bz2), (await keys).privateKey)));
  const img = await pullImage('flatcar-bz2', c.opts);
  t.is(img.verified, 'signature');
  t.deepEqual(readFileSync(img.files.disk), c.image);
  t.is(statSync(img.files.disk).size, c.image.length);
});

serial('an import without digests is recorded unverified; verify later checks it against the signed list', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const file = join(c.cache, '..', IMG);
  writeFileSync(file, c.image);
  t.deepEqual(await importImage('flatcar-test', file, { ...c.opts, offline: true, allowUnverified: true }), { role: 'disk', verified: 'none' });
  t.is(c.mirror.count(), 0);
  t.like(listImages({ catalog: c.catalog }).find((i) => i.name === 'flatcar-test')!, { cached: true, verified: 'none' });
  await pullImage('flatcar-test', { ...c.opts, offline: true });

  t.like(await verifyImage('flatcar-test', c.opts), { verified: 'signature' });
  t.is(c.mirror.count(IMG), 0, 'only the DIGESTS.asc was fetched');

  // With the digests now cached, a damaged import is refused offline.
  const bad = Buffer.from(c.image);
  bad[0] ^= 1;
  writeFileSync(file, bad);
  t.regex((await rejects(importImage('flatcar-test', file, { ...c.opts, offline: true }))).message, /digest mismatch/);
});

test('digest lists: Flatcar DIGESTS, RancherOS checksums.txt and sha256sum output', (t) => {
  const a = 'a'.repeat(128);
  const b = 'b'.repeat(64);
  const list = parseDigests(`# MD5 HASH\n${'c'.repeat(32)}  x.img\n# SHA512 HASH\n${a}  x.img\nsha256: ${b}  vmlinuz\nmd5: ${'d'.repeat(32)}  vmlinuz\n${b}  *dir/y.iso\n`);
  t.deepEqual(Object.fromEntries(list), { 'x.img': { sha512: a }, vmlinuz: { sha256: b }, 'y.iso': { sha256: b } });
});

/** Puts a release of the moving entry on the mirror: the image and its clearsigned DIGESTS. */
async function publishCurrent(c: Ctx, image: Buffer): Promise<void> {
  c.mirror.files.set(CURRENT + IMG, image);
  c.mirror.files.set(`${CURRENT}${IMG}.DIGESTS.asc`, Buffer.from(await clearsign(flatcarDigests(IMG, image), (await keys).privateKey)));
}

serial('pull --refresh re-fetches the digest list of a moving entry and downloads a changed file; without it the cache is used as is', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const v1 = randomBytes(200_000);
  await publishCurrent(c, v1);
  const first = await pullImage('flatcar-current', c.opts);
  t.deepEqual(readFileSync(first.files.disk), v1);

  // A new release is published under the same "current" URLs.
  const v2 = randomBytes(210_000);
  await publishCurrent(c, v2);
  const before = c.mirror.count();
  const cached = await pullImage('flatcar-current', c.opts);
  t.is(c.mirror.count(), before, 'without --refresh nothing is requested');
  t.deepEqual(readFileSync(cached.files.disk), v1, 'and the cached release is used as it is');

  const refreshed = await pullImage('flatcar-current', { ...c.opts, refresh: true });
  t.deepEqual(readFileSync(refreshed.files.disk), v2, '--refresh picks up the changed file');
  t.is(refreshed.verified, 'signature');
  t.is(c.mirror.count(`${IMG}.DIGESTS.asc`), 2);
  t.is(c.mirror.count(IMG), 2, 'the image was downloaded again');
  t.false(existsSync(first.files.disk), 'the replaced release is removed from the cache');
  t.like(listImages({ catalog: c.catalog }).find((i) => i.name === 'flatcar-current')!, { cached: true, size: v2.length });

  // Nothing changed since: --refresh fetches only the digest list.
  const again = await pullImage('flatcar-current', { ...c.opts, refresh: true });
  t.is(again.files.disk, refreshed.files.disk);
  t.is(c.mirror.count(`${IMG}.DIGESTS.asc`), 3);
  t.is(c.mirror.count(IMG), 2);

  // A refresh that cannot touch the network says so.
  t.regex((await rejects(pullImage('flatcar-current', { ...c.opts, refresh: true, offline: true }))).message, /--refresh .*--offline forbids/);
});

serial('a digest list with a detached .sig is checked with the key before any image byte is fetched', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const sums = Buffer.from(`${hex('sha512', c.image)}  ${IMG}\n`);
  const detached = async (armoredKey: string) => {
    const signingKeys = await openpgp.readPrivateKey({ armoredKey });
    return Buffer.from(await openpgp.sign({ message: await openpgp.createMessage({ binary: sums }), signingKeys, detached: true, format: 'binary' }) as Uint8Array);
  };
  c.mirror.files.set(DETACHED + IMG, c.image);
  c.mirror.files.set(`${DETACHED}SHA512SUMS`, sums);

  // Signed by another key: refused, and the image is never requested.
  c.mirror.files.set(`${DETACHED}SHA512SUMS.sig`, await detached((await otherKeys).privateKey));
  const err = await rejects(pullImage('detached-test', c.opts));
  t.regex(err.message, /signature check failed for .*SHA512SUMS \(signature .*SHA512SUMS\.sig\)/);
  t.is(c.mirror.count(IMG), 0);
  t.deepEqual(cachedFiles(c.cache), []);

  // A list changed after signing: refused too.
  c.mirror.files.set(`${DETACHED}SHA512SUMS.sig`, await detached((await keys).privateKey));
  c.mirror.files.set(`${DETACHED}SHA512SUMS`, Buffer.from(`${hex('sha512', randomBytes(8))}  ${IMG}\n`));
  t.regex((await rejects(pullImage('detached-test', c.opts))).message, /signature check failed/);
  t.is(c.mirror.count(IMG), 0);

  // Signed by the right key: pulled and marked verified by signature.
  c.mirror.files.set(`${DETACHED}SHA512SUMS`, sums);
  const img = await pullImage('detached-test', c.opts);
  t.is(img.verified, 'signature');
  t.deepEqual(readFileSync(img.files.disk), c.image);
});
