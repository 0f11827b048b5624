// Real-image boots: the Flatcar and RancherOS variants of the shipped scenarios, in QEMU, when
// their images are in the cache (corelab images pull|import). When an image or artifact is absent
// the test is skipped, with the reason, as the fleet scenario is in vm.test.ts: CI has no Flatcar
// image and stays green; one that is there but unusable fails the test with the lab's message.
// Nothing is downloaded here. Serial, since the host has two cores.
import test from 'ava';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listImages } from '../lab/images/fetch.js';
import { resolveArtifact } from '../lab/images/artifacts.js';
import { assertLabGone, corelab } from './helpers/lab.js';
import { tempTree } from './helpers/files.js';
import { ifPresent, input, need } from './helpers/inputs.js';

const cached = listImages().filter((i) => i.kind === 'download' && i.cached).map((i) => i.name);
// Any Flatcar entry will do; the shipped variant names flatcar-stable.
const flatcar = cached.includes('flatcar-stable') ? 'flatcar-stable' : cached.find((n) => n.startsWith('flatcar'));
const flatcarImage = await input('no Flatcar image in the cache (corelab images pull flatcar-stable, or corelab images import flatcar-stable FILE)', () => flatcar);
// An etcd artifact that is there but unusable (a CORELAB_ARTIFACTS folder that does not exist, a
// cached copy that fails its digest, a binary of the wrong version) fails the Flatcar test with the
// lab's message; only an absent one skips it.
const etcd = await input('no etcd 3.4 artifact (corelab artifacts pull etcd, or corelab artifacts import etcd /usr/bin/etcd and /usr/bin/etcdctl)', () => resolveArtifact('etcd'));
const rancheros = await input('no rancheros-1.5.8 in the cache (corelab images pull rancheros-1.5.8, or import its vmlinuz and initrd)', () => cached.includes('rancheros-1.5.8') || undefined);

/** The variant as shipped, or a copy naming the Flatcar entry that is cached. */
function flatcarVariant(): { file: string; remove: () => void } {
  if (flatcar === 'flatcar-stable') return { file: 'scenarios/etcd-discovery/flatcar.yaml', remove: () => undefined };
  const tree = tempTree({});
  cpSync('scenarios/etcd-discovery', tree.dir, { recursive: true });
  const file = join(tree.dir, 'flatcar.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^image: flatcar-stable$/m, `image: ${flatcar}`));
  return { file, remove: tree.remove };
}

ifPresent(test.serial, 'the Flatcar etcd-discovery boot', flatcarImage, etcd)(`etcd-discovery on Flatcar (${flatcar ?? 'not cached'}): etcd2.service added by the lab, cluster through discovery, survives a power-off [needs a cached Flatcar image and the etcd artifact]`, async (t) => {
  need(etcd);
  const variant = flatcarVariant();
  const out = tempTree({});
  t.teardown(() => { out.remove(); variant.remove(); });
  const r = await corelab(['run', variant.file, '--report', out.dir]);
  t.log(r.all.split('\n').slice(-40).join('\n'));
  t.is(r.exitCode, 0, 'corelab run exits 0');
  t.regex(r.all, /adding etcd2\.service \(etcd 3\.4\.\d+ from artifact .*\) because flatcar-\S+ has none/);
  const junit = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is((junit.match(/<testcase /g) ?? []).length, 10);
  t.false(/<failure|<skipped|<error/.test(junit), 'every step passed');
  for (const n of ['node00', 'node01', 'node02']) t.regex(readFileSync(join(out.dir, 'consoles', `${n}.log`), 'utf8'), /Flatcar Container Linux/);
  assertLabGone(t, 'etcd-discovery-flatcar', r.all);
});

ifPresent(test.serial, 'the RancherOS swarm boot', rancheros)('swarm-drain-replicate on RancherOS 1.5.8: Docker 19.03 swarm, drain, fail over, scale out through the lab registry [needs a cached rancheros-1.5.8]', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  const r = await corelab(['run', 'scenarios/swarm-drain-replicate/rancheros.yaml', '--report', out.dir]);
  t.log(r.all.split('\n').slice(-40).join('\n'));
  t.is(r.exitCode, 0, 'corelab run exits 0');
  const junit = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is((junit.match(/<testcase /g) ?? []).length, 25);
  t.false(/<failure|<skipped|<error/.test(junit), 'every step passed');
  const report = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')).scenarios[0];
  t.regex(report.steps[0].stdout, /^19\.03\.\d+ inactive/, 'RancherOS 1.5.8 runs Docker 19.03');
  t.regex(readFileSync(join(out.dir, 'registry.log'), 'utf8'), /"(HEAD|GET) \/v2\/library\/nginx\/manifests\/latest HTTP\/1\.1" 200 .*"docker\/19\.03/);
  assertLabGone(t, 'swarm-drain-replicate-rancheros', r.all);
});
