// Which image a scenario boots and from where: cached, not cached, unknown. Every test points
// CORELAB_CACHE at its own folder, so they run one at a time; nothing here boots.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileProblems } from '../lab/scenario/loader.js';
import { loadPlan, missingImage, prepareGuestImage } from '../lab/run/plan.js';
import { loadCatalog } from '../lab/images/catalog.js';
import { importImage } from '../lab/images/fetch.js';
import { recipeHash } from '../lab/images/store.js';
import { LabError } from '../lab/util/errors.js';
import { scenario, emptyCache, tempTree } from './helpers/files.js';

const FLATCAR = 'scenarios/etcd-discovery/flatcar.yaml';
const RANCHER = 'scenarios/swarm-drain-replicate/rancheros.yaml';

const catalog = loadCatalog();
const loadScenario = (path: string) => loadPlan(path, { catalog });


test.serial('a downloaded image in the cache boots from its cached files, as its catalog user', async (t) => {
  const cache = emptyCache(t);
  const file = join(cache, 'flatcar_production_qemu_image.img');
  writeFileSync(file, 'a stand-in qcow2');
  await importImage('flatcar-stable', file, { offline: true, allowUnverified: true });
  const plan = loadScenario(FLATCAR);
  t.is(missingImage(plan, catalog), undefined);
  const g = await prepareGuestImage(plan, catalog, { allowUnverified: true });
  t.is(g.user, 'core');
  t.is(g.entry.name, 'flatcar-stable');
  t.is(g.boot.kernel, undefined, 'Flatcar boots its disk');
  t.true('base' in g.boot.disk && g.boot.disk.base.startsWith(join(cache, 'downloads', 'sha256')));
  t.is(g.probeKernel, undefined, 'no kernel to probe KVM with here: labos is not built in this cache');

  for (const f of ['vmlinuz', 'initrd']) {
    writeFileSync(join(cache, f), `a stand-in ${f}`);
    await importImage('rancheros-1.5.8', join(cache, f), { offline: true, allowUnverified: true });
  }
  const r = await prepareGuestImage(loadScenario(RANCHER), catalog, { allowUnverified: true });
  t.is(r.user, 'rancher');
  t.regex(r.boot.kernel!.cmdline, /rancher\.state\.autoformat/);
  t.deepEqual(r.boot.disk, { blankGiB: 10 });
  t.is(r.probeKernel, r.boot.kernel!.kernel);
});

test.serial('a downloaded image not in the cache: an error at the scenario\'s image: line, with pull, import and --offline', async (t) => {
  emptyCache(t);
  const plan = loadScenario(FLATCAR);
  t.is(plan.imageAt?.line, 10);
  const err = await t.throwsAsync(prepareGuestImage(plan, catalog), { instanceOf: LabError });
  t.is(err!.file, FLATCAR);
  t.is(err!.line, 10);
  t.regex(err!.format(), /^scenarios\/etcd-discovery\/flatcar\.yaml:10: image flatcar-stable is not in the cache \(missing: flatcar_production_qemu_image\.img\)\n  fix: corelab images pull flatcar-stable /);
  t.regex(err!.fix!, /corelab images import flatcar-stable \/path\/to\/flatcar_production_qemu_image\.img/);
  t.regex(err!.fix!, /A run never downloads images; `corelab images pull flatcar-stable --offline` only checks the cache/);
  // The runner turns the same facts into a skip reason.
  t.regex(missingImage(plan, catalog)!, /^it boots flatcar-stable, which is not in the image cache .*corelab images pull flatcar-stable/);
  t.regex(missingImage(loadScenario(RANCHER), catalog)!, /missing: vmlinuz, initrd\).*corelab images import rancheros-1\.5\.8 \/path\/to\/vmlinuz && corelab images import rancheros-1\.5\.8 \/path\/to\/initrd/);
  t.is(missingImage(loadScenario('scenarios/etcd-discovery'), catalog), undefined, 'labos is built on demand, never skipped for this');
});

test.serial('an image name the catalog does not know: the scenario check names its line and the closest name', async (t) => {
  emptyCache(t);
  const tree = tempTree(scenario('name: t\nimage: flatcar-stabel\nnodes:\n  a: { address: 192.168.0.10, config: cloud-config.yaml }\nsteps:\n  - name: x\n    on: a\n    run: "true"\n'));
  t.teardown(tree.remove);
  const err = t.throws(() => loadScenario(tree.dir), { instanceOf: FileProblems });
  t.regex(err!.format(), /scenario\.yaml:2:8: unknown image "flatcar-stabel": images\/catalog\.yaml has no such entry\n  fix: did you mean "flatcar-stable"\?/);
});

test('the artifacts a scenario needs: etcd for Flatcar\'s etcd2, none for labos, requires: kept', (t) => {
  t.deepEqual(loadScenario(FLATCAR).artifactNames, ['etcd']);
  t.deepEqual(loadScenario(RANCHER).artifactNames, []);
  t.deepEqual(loadScenario('scenarios/etcd-discovery').artifactNames, []);
  t.deepEqual(loadScenario('scenarios/fleet-nginx-failover').artifactNames, ['fleet']);
});

test('a recipe\'s hash changes with any file the build reads, nested or not, and not with its README.md', (t) => {
  const tree = tempTree({ 'build.sh': 'echo build', 'README.md': 'how it works', 'files/etc/x.conf': 'a=1' });
  t.teardown(tree.remove);
  const first = recipeHash(tree.dir);
  writeFileSync(join(tree.dir, 'README.md'), 'how it works, better said');
  t.is(recipeHash(tree.dir), first, 'a README edit rebuilds nothing');
  writeFileSync(join(tree.dir, 'files/etc/x.conf'), 'a=2');
  const second = recipeHash(tree.dir);
  t.not(second, first);
  writeFileSync(join(tree.dir, 'files/README.md'), 'not the recipe folder\'s own');
  t.is(recipeHash(tree.dir), second, 'nor a nested README.md');
  writeFileSync(join(tree.dir, 'files/README'), 'any other name is an input');
  t.not(recipeHash(tree.dir), second);
});
