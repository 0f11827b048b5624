// The RancherOS basics scenario without a RancherOS image: lint, the skip, the node's rendered
// cloud-config, the files the host serves in place of RancherOS's internet URLs, and container
// images imported for the registry mirror. Nothing here boots a VM.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { parse } from 'yaml';
import { corelab, leftoverDirs } from './helpers/lab.js';
import { scenario, tempTree } from './helpers/files.js';
import { loadCatalog } from '../lab/images/catalog.js';
import { loadPlan } from '../lab/run/plan.js';
import { guestConfig } from '../lab/guestconfig/guestconfig.js';
import { render } from '../lab/util/template.js';
import { FileService } from '../lab/host/files.js';
import { Registry } from '../lab/host/registry.js';
import { HOST_SERVICES_ADDR } from '../lab/host/switch.js';
import { rancherFiles, rancherVars } from '../lab/host/rancherfiles.js';
import { cachedContainer, mirrorPath } from '../lab/images/containerarchive.js';
import { unmetRequirement } from '../lab/run/requires.js';
import { which } from '../lab/host/tools.js';
import type { Plan } from '../lab/cluster/plan.js';
import { startServices } from '../lab/cluster/services.js';
import { Teardown } from '../lab/cluster/teardown.js';

const SCENARIO = 'scenarios/rancheros-basics';
const catalog = loadCatalog();

test('lint accepts rancheros-basics', async (t) => {
  const r = await corelab(['lint', SCENARIO]);
  t.is(r.exitCode, 0, r.all);
  t.regex(r.stdout, /scenarios\/rancheros-basics: ok \(1 nodes, 20 steps\)/);
});

test('without the image, rancheros-basics is skipped with the pull command, exit 0, and no lab is set up', async (t) => {
  const empty = tempTree({});
  const out = tempTree({});
  t.teardown(() => (empty.remove(), out.remove()));
  const r = await corelab(['run', SCENARIO, '--report', out.dir], { CORELAB_CACHE: empty.dir });
  t.is(r.exitCode, 0, r.all);
  t.regex(r.stdout, /SKIPPED rancheros-basics .*0 passed, 0 failed, 20 skipped/);
  t.regex(r.stdout, /skipped: it boots rancheros-1\.5\.8, which is not in the image cache \(missing: vmlinuz, initrd\); to run it: corelab images pull rancheros-1\.5\.8/);
  const junit = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is((junit.match(/<skipped message="skipped: it boots rancheros-1\.5\.8/g) ?? []).length, 20);
  t.deepEqual(leftoverDirs('rancheros-basics'), []);
});

/** The variables the lab sets for this scenario, as startServices does (file service, registry). */
function labVars(filesGuestUrl: string): Record<string, string> {
  const registry = `http://${HOST_SERVICES_ADDR}:${Registry.GUEST_PORT}`;
  return { ...rancherVars(filesGuestUrl), 'registry.url': registry, 'registry.host': new URL(registry).host };
}

test('the rendered cloud-config names the served releases.yml, the os-services repository and the registry mirror', (t) => {
  const plan = loadPlan(SCENARIO, { catalog });
  const n = plan.nodes[0];
  const vars = { ...labVars(`http://${HOST_SERVICES_ADDR}:${FileService.GUEST_PORT}`), 'node.name': n.name, 'node.address': n.address, 'node.prefix': '24', ssh_public_key: 'ssh-ed25519 AAAAtest lab' };
  const id = { instanceId: 'i-1', hostname: n.name, sshPublicKey: vars.ssh_public_key, address: n.address, prefix: 24, lanMac: '52:54:00:01:00:00', hostMac: '52:54:00:01:01:00' };
  const text = guestConfig(plan.entry, render(n.config, vars), id);
  t.regex(text, /^#cloud-config\n/);
  const doc = parse(text);
  t.is(doc.hostname, 'rancher-os');
  t.is(doc.rancher.upgrade.url, 'http://10.0.2.100:8080/rancher/releases.yml');
  t.is(doc.rancher.repositories.core.url, 'http://10.0.2.100:8080/rancher/os-services');
  for (const d of [doc.rancher.system_docker, doc.rancher.docker]) {
    t.is(d.registry_mirror, 'http://10.0.2.100:5000');
    t.deepEqual(d.insecure_registry, ['10.0.2.100:5000']);
  }
  t.deepEqual(doc.ssh_authorized_keys, ['ssh-ed25519 AAAAtest lab']);
  t.deepEqual(doc.rancher.network.interfaces['mac=52:54:00:01:01:00'], { dhcp: true }, 'DHCP on the host NIC: the default route ros needs before it fetches anything');
  t.false(/\{\{/.test(text), 'no variable is left unrendered');
});

test('the host serves releases.yml and the os-services files as ros reads them, over HTTP on 127.0.0.1', async (t) => {
  const plan = loadPlan(SCENARIO, { catalog });
  const files = await FileService.start(rancherFiles(plan.rancher!));
  t.teardown(() => files.stop());
  t.deepEqual(files.forward, { name: 'files', guestAddr: '10.0.2.100', guestPort: 8080, hostPort: files.port });
  const vars = rancherVars(files.guestUrl);
  const get = async (guestUrl: string) => {
    const r = await fetch(guestUrl.replace(files.guestUrl, files.hostUrl));
    t.is(r.status, 200, guestUrl);
    return parse(await r.text());
  };
  // ros os list asks for releases.yml?current=v1.5.8&hypervisor= (cmd/control/os.go).
  const releases = await get(`${vars['rancher.upgrade_url']}?current=v1.5.8&hypervisor=`);
  t.is(releases.current, 'rancher/os:v1.5.8');
  t.deepEqual(releases.available, ['rancher/os:v1.5.6', 'rancher/os:v1.5.7', 'rancher/os:v1.5.8']);
  // ros engine list: URL/index.yml, key engines (pkg/util/network.GetEngines).
  const index = await get(`${vars['rancher.repositories_url']}/index.yml`);
  t.deepEqual(index.engines, ['docker-18.09.9', 'docker-19.03.15']);
  // ros engine switch: URL/d/ENGINE.yml, the compose service "docker".
  const engine = await get(`${vars['rancher.repositories_url']}/d/docker-18.09.9.yml`);
  t.is(engine.docker.image, '${REGISTRY_DOMAIN}/rancher/os-docker:18.09.9${SUFFIX}');
  t.is(engine.docker.command, 'ros user-docker');
  t.is(engine.docker.labels['io.rancher.os.scope'], 'system');
  t.is((await fetch(`${files.hostUrl}/rancher/os-services/d/docker-1.11.2.yml`)).status, 404);
  t.is((await fetch(`${files.hostUrl}/rancher/releases.yml`, { method: 'POST' })).status, 405);
  t.deepEqual(files.requests.map((r) => r.status), [200, 200, 200, 404, 405]);
  // The engines the switch steps require are the images the served files name.
  const required = [...new Set(plan.steps.flatMap((s) => s.containers ?? []))];
  t.deepEqual(required, ['rancher/os:v1.5.7', 'rancher/os-docker:18.09.9']);
});

test('a step requiring a container image that is not imported is skipped alone, with the import command', (t) => {
  const plan = { ...loadPlan(SCENARIO, { catalog }), containers: [] } as unknown as Plan;
  const needing = plan.steps.filter((s) => unmetRequirement(s, plan));
  t.deepEqual(needing.map((s) => s.index), [13, 14, 15, 17, 18, 19]);
  t.regex(unmetRequirement(plan.steps[13], plan)!, /^skipped: it needs the container image rancher\/os:v1\.5\.7, which is not imported.*corelab images import-container rancher\/os:v1\.5\.7 image\.tar/);
  const withOne = { ...plan, containers: [{ ref: 'rancher/os:v1.5.7' }] } as unknown as Plan;
  t.deepEqual(plan.steps.filter((s) => unmetRequirement(s, withOne)).map((s) => s.index), [17, 18, 19]);
});

test('lint refuses a bad requires and one without the registry mirror', async (t) => {
  const base = (top: string, req: string) => `name: req-t\n${top}nodes:\n  a: { address: 192.168.0.10, config: cloud-config.yaml }\nsteps:\n  - name: pull\n    on: a\n    requires: [${req}]\n    run: echo hi\n`;
  const bad = tempTree(scenario(base('registry: { images: [] }\n', 'rancher/os:v1.5.7')));
  const noRegistry = tempTree(scenario(base('', 'container:rancher/os:v1.5.7')));
  t.teardown(() => (bad.remove(), noRegistry.remove()));
  const r1 = await corelab(['lint', bad.dir]);
  t.is(r1.exitCode, 2);
  t.regex(r1.stderr, /scenario\.yaml:8:\d+: step requirement "rancher\/os:v1\.5\.7" is not container:REPO:TAG\n  fix: write it as container:rancher\/os:v1\.5\.7/);
  const r2 = await corelab(['lint', noRegistry.dir]);
  t.is(r2.exitCode, 2);
  t.regex(r2.stderr, /requires container images, which only the registry mirror serves, but the scenario has no "registry:"/);
});

test('images import-container records an archive\'s digest, and the registry mirror serves it as Docker v2 schema 2', async (t) => {
  if (!which('umoci') || !which('skopeo')) return t.pass('skipped: umoci and skopeo make the test archive');
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A one-layer image, saved as `docker save` would: a docker-archive tagged rancher/os:v1.5.7.
  const oci = join(dir, 'src');
  await execa('umoci', ['init', '--layout', oci]);
  await execa('umoci', ['new', '--image', `${oci}:latest`]);
  writeFileSync(join(dir, 'hello'), 'hello from the test image\n');
  await execa('umoci', ['insert', '--image', `${oci}:latest`, join(dir, 'hello'), '/hello']);
  const archive = join(dir, 'os.tar');
  await execa('skopeo', ['--insecure-policy', 'copy', '--quiet', `oci:${oci}:latest`, `docker-archive:${archive}:rancher/os:v1.5.7`]);
  const sha = createHash('sha256').update(readFileSync(archive)).digest('hex');

  const cache = join(dir, 'cache');
  const r = await corelab(['images', 'import-container', 'rancher/os:v1.5.7', archive], { CORELAB_CACHE: cache });
  t.is(r.exitCode, 0, r.all);
  t.regex(r.stdout, new RegExp(`^rancher/os:v1\\.5\\.7: imported .*os\\.tar \\(sha256 ${sha}, manifest sha256:[0-9a-f]{64}\\)$`, 'm'));
  const bad = await corelab(['images', 'import-container', 'rancher/os', archive], { CORELAB_CACHE: cache });
  t.is(bad.exitCode, 2, bad.all);
  t.regex(bad.all, /"rancher\/os" is not a container image reference REPO:TAG\n  fix: /);

  const saved = process.env.CORELAB_CACHE;
  process.env.CORELAB_CACHE = cache;
  t.teardown(() => (saved === undefined ? delete process.env.CORELAB_CACHE : (process.env.CORELAB_CACHE = saved)));
  const c = cachedContainer('rancher/os:v1.5.7')!;
  t.truthy(c, 'in the cache');
  t.is(c.archiveSha256, sha);
  t.true(existsSync(join(c.oci, 'index.json')));
  t.is(cachedContainer('rancher/os:v1.5.6'), undefined);
  t.deepEqual(mirrorPath('rancher/os:v1.5.7'), { repo: 'rancher/os', tag: 'v1.5.7' });
  t.deepEqual(mirrorPath('nginx:latest'), { repo: 'library/nginx', tag: 'latest' });

  if (process.getuid?.() !== 0 || !which('docker-registry') || !which('vde_switch')) return t.log('registry part skipped: needs root, docker-registry and vde_switch');
  // The lab's host services as Lab.create starts them for this scenario, with the imported image.
  const plan = { ...loadPlan(SCENARIO, { catalog }), registry: { images: [] }, containers: [c] } as unknown as Plan;
  const teardown = new Teardown();
  t.teardown(() => teardown.run());
  const vars: Record<string, string> = {};
  const services = await startServices(plan, dir, teardown, vars);
  t.deepEqual(vars, labVars(services.files!.guestUrl), 'the variables the cloud-config is rendered with');
  const registry = services.registry!;
  const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
  const res = await fetch(`${registry.hostUrl}/v2/rancher/os/manifests/v1.5.7`, { headers: { accept: MANIFEST_V2 } });
  t.is(res.status, 200);
  const manifest = await res.json();
  t.is(manifest.mediaType, MANIFEST_V2);
  t.is(manifest.layers.length, 1);
  const layer = await fetch(`${registry.hostUrl}/v2/rancher/os/blobs/${manifest.layers[0].digest}`);
  t.is(layer.status, 200);
  t.is((await layer.arrayBuffer()).byteLength, manifest.layers[0].size);
  t.is((await fetch(`${services.files!.hostUrl}/rancher/releases.yml`)).status, 200);
  t.deepEqual(await teardown.run(), [], 'every service stops cleanly');
});
