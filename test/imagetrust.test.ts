// Images are checked at every use: a run hashes each file it boots again and compares it with what
// was recorded at pull, import or build time; unverified imports need --allow-unverified. Every test
// points CORELAB_CACHE at its own folder, so they run one at a time; nothing here boots.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan, prepareGuestImage as prepare } from '../lab/run/plan.js';
import { loadCatalog } from '../lab/images/catalog.js';
import type { CheckedScenario } from '../lab/cluster/plan.js';

const catalog = loadCatalog();
const loadScenario = (path: string) => loadPlan(path, { catalog });
const prepareGuestImage = (s: CheckedScenario, opts: { allowUnverified?: boolean } = {}) => prepare(s, catalog, opts);
import { importImage } from '../lab/images/fetch.js';
import { builtImageDir, recipeDir, recipeHash, writeImageManifest } from '../lab/images/store.js';
import { corelab } from './helpers/lab.js';
import { emptyCache, tempTree } from './helpers/files.js';
import { rejects as refused } from './helpers/errors.js';

const serial = test.serial;
const FLATCAR = 'scenarios/etcd-discovery/flatcar.yaml';
const LABOS = 'scenarios/etcd-discovery';
const IMG = 'flatcar_production_qemu_image.img';


const sha = (algo: string, b: Buffer): string => createHash(algo).update(b).digest('hex');

/** A stand-in flatcar-stable disk imported against a cached (already checked) digest list that lists it. */
async function importVerified(t: import('ava').ExecutionContext, cache: string): Promise<{ bytes: Buffer; blob: string }> {
  const bytes = randomBytes(200_000);
  mkdirSync(join(cache, 'pulled', 'flatcar-stable'), { recursive: true });
  const text = `# SHA512 HASH\n${sha('sha512', bytes)}  ${IMG}\n`;
  writeFileSync(join(cache, 'pulled', 'flatcar-stable', 'digests.json'), JSON.stringify({ url: 'http://upstream.invalid/x.DIGESTS.asc', by: 'signature', text }));
  writeFileSync(join(cache, IMG), bytes);
  t.deepEqual(await importImage('flatcar-stable', join(cache, IMG), { offline: true }), { role: 'disk', verified: 'signature' });
  return { bytes, blob: join(cache, 'downloads', 'sha256', sha('sha256', bytes)) };
}


serial('a cached image altered on disk after the pull is refused, naming the file and the expected digest', async (t) => {
  const cache = emptyCache(t);
  const { bytes, blob } = await importVerified(t, cache);
  const plan = loadScenario(FLATCAR);
  t.truthy(await prepareGuestImage(plan), 'as pulled: it boots');

  // One byte changed, same size, a later mtime.
  const bad = Buffer.from(bytes);
  bad[4096] ^= 1;
  writeFileSync(blob, bad);
  utimesSync(blob, new Date(), new Date(Date.now() + 5000));
  const err = await refused(prepareGuestImage(plan, { allowUnverified: true }));
  t.true(err.message.startsWith(`${blob} (flatcar-stable's disk, ${IMG}) was altered on disk after it was pulled`));
  t.true(err.message.includes(`expected sha256 ${sha('sha256', bytes)} (${bytes.length} bytes)`));
  t.true(err.message.includes(`it now hashes to ${sha('sha256', bad)}`));
  t.regex(err.fix!, /corelab images rm flatcar-stable && corelab images pull flatcar-stable/);

  // Cut short: the size alone gives it away.
  writeFileSync(blob, bytes.subarray(0, 1000));
  t.regex((await refused(prepareGuestImage(plan))).message, /it has 1000 bytes instead of 200000/);
});

serial('the hash of a file is taken once per process: path, size and mtime unchanged means the same verdict', async (t) => {
  const cache = emptyCache(t);
  const { bytes, blob } = await importVerified(t, cache);
  const plan = loadScenario(FLATCAR);
  const then = new Date('2026-01-01T00:00:00Z');
  utimesSync(blob, then, then);
  await prepareGuestImage(plan);
  const bad = Buffer.from(bytes);
  bad[0] ^= 1;
  writeFileSync(blob, bad);
  utimesSync(blob, then, then);
  t.truthy(await prepareGuestImage(plan), 'not hashed again within this process (what makes one check per run cheap)');
  utimesSync(blob, then, new Date(then.getTime() + 1000));
  t.regex((await refused(prepareGuestImage(plan))).message, /was altered on disk/);
});

serial('an import whose digest cannot be checked is refused unless --allow-unverified; a run then needs the flag too', async (t) => {
  const cache = emptyCache(t);
  const file = join(cache, IMG);
  writeFileSync(file, randomBytes(50_000));
  const err = await refused(importImage('flatcar-stable', file, { offline: true }));
  t.regex(err.message, /^flatcar-stable: flatcar_production_qemu_image\.img cannot be checked: its digest list is not cached and --offline forbids fetching it; nothing was imported/);
  t.regex(err.fix!, /--allow-unverified/);
  t.false(existsSync(join(cache, 'pulled', 'flatcar-stable', 'image.json')), 'nothing recorded');
  t.false(existsSync(join(cache, 'downloads', 'sha256')), 'nothing stored');

  t.deepEqual(await importImage('flatcar-stable', file, { offline: true, allowUnverified: true }), { role: 'disk', verified: 'none' });
  const plan = loadScenario(FLATCAR);
  const run = await refused(prepareGuestImage(plan));
  t.regex(run.message, /^flatcar-stable is UNVERIFIED: flatcar_production_qemu_image\.img \(its disk\) was imported without a digest/);
  t.regex(run.fix!, /corelab images verify flatcar-stable.*--allow-unverified/);
  t.truthy(await prepareGuestImage(plan, { allowUnverified: true }));
});

serial('corelab images import exits non-zero without a checkable digest, and keeps the file UNVERIFIED with --allow-unverified', async (t) => {
  const cache = tempTree({});
  t.teardown(cache.remove);
  const file = join(cache.dir, IMG);
  writeFileSync(file, randomBytes(20_000));
  const env = { CORELAB_CACHE: cache.dir };
  const no = await corelab(['images', 'import', 'flatcar-stable', file, '--offline'], env);
  t.is(no.exitCode, 2, no.all);
  t.regex(no.stderr, /cannot be checked.*nothing was imported\n\s+fix: .*--allow-unverified/);
  t.notRegex(no.stderr, /\n\s+at /, 'no stack trace');
  const yes = await corelab(['images', 'import', 'flatcar-stable', file, '--offline', '--allow-unverified'], env);
  t.is(yes.exitCode, 0, yes.all);
  t.regex(yes.stdout, /flatcar-stable: imported .* as its disk \(verified: none\)/);
  t.regex(yes.all, /imported flatcar_production_qemu_image\.img UNVERIFIED/);
});

/** A fake labos build in the cache, for the current recipe: small files where the real ones are big. */
async function fakeLabos(withDigests = true): Promise<string> {
  const dir = builtImageDir('labos', recipeHash(recipeDir('labos')));
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries({ 'disk.qcow2': 'a stand-in disk', vmlinuz: 'a stand-in kernel', 'initrd.img': 'a stand-in initrd', 'initrd-plain.img': 'a stand-in plain initrd', cmdline: 'console=ttyS0 quiet\n' })) writeFileSync(join(dir, f), text);
  if (withDigests) await writeImageManifest(dir, { name: 'labos', recipe: 'test' });
  else writeFileSync(join(dir, 'image.json'), JSON.stringify({ name: 'labos', recipe: 'test' }));
  return dir;
}

serial('a labos build folder records its files\' digests, and a file altered since is refused naming it and the digest', async (t) => {
  emptyCache(t);
  const dir = await fakeLabos();
  const manifest = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8'));
  t.deepEqual(Object.keys(manifest.files).sort(), ['cmdline', 'disk.qcow2', 'initrd-plain.img', 'initrd.img', 'vmlinuz']);
  t.is(manifest.files['initrd.img'].sha256, sha('sha256', Buffer.from('a stand-in initrd')));
  const plan = loadScenario(LABOS);
  const g = await prepareGuestImage(plan);
  t.is(g.boot.kernel!.initrd, join(dir, 'initrd.img'));

  writeFileSync(join(dir, 'initrd.img'), 'a stand-in initrX');
  utimesSync(join(dir, 'initrd.img'), new Date(), new Date(Date.now() + 5000));
  const err = await refused(prepareGuestImage(plan));
  t.true(err.message.startsWith(`${join(dir, 'initrd.img')} was altered after the labos image was built: expected sha256 ${sha('sha256', Buffer.from('a stand-in initrd'))} (17 bytes), but it now hashes to`));
  t.regex(err.fix!, /corelab images build labos --force/);
});

serial('a labos build from before digests were recorded is hashed once and recorded, then checked like any other', async (t) => {
  emptyCache(t);
  const dir = await fakeLabos(false);
  const plan = loadScenario(LABOS);
  await prepareGuestImage(plan);
  const manifest = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8'));
  t.is(manifest.recipe, 'test', 'what was there is kept');
  t.truthy(manifest.filesRecordedAt);
  t.is(manifest.files['disk.qcow2'].sha256, sha('sha256', Buffer.from('a stand-in disk')));

  writeFileSync(join(dir, 'disk.qcow2'), 'another disk!!!');
  utimesSync(join(dir, 'disk.qcow2'), new Date(), new Date(Date.now() + 5000));
  t.regex((await refused(prepareGuestImage(plan))).message, /disk\.qcow2 was altered after the labos image was built/);
});
