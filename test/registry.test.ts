import test from 'ava';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';
import { Registry } from '../lab/host/registry.js';
import { ensureNginxImage } from '../lab/images/containerimage.js';
import { alive } from '../lab/util/lock.js';
import { Daemon } from '../lab/host/proc.js';
import { waitUntil, NotYet } from '../lab/util/poll.js';
import { ifPresent, input } from './helpers/inputs.js';

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

test('the registry mirror serves the nginx image as Docker Hub would, logs the pull, and stops cleanly', async (t) => {
  const oci = await ensureNginxImage(); // built once (under a minute), then from the cache
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const registry = await Registry.start(dir);
  t.teardown(() => registry.stop());
  const pid = registry.pid!;
  t.true(alive(pid));
  t.deepEqual(registry.forward, { name: 'registry', guestAddr: '10.0.2.100', guestPort: 5000, hostPort: registry.port });
  t.is(registry.guestUrl, 'http://10.0.2.100:5000');

  await registry.seed(oci);
  t.deepEqual(registry.pulls(), [], 'the seeding push is not a pull');

  // What a dockerd using the mirror asks for: the tag's manifest as Docker v2 schema 2 ...
  const res = await fetch(`${registry.hostUrl}/v2/library/nginx/manifests/latest`, { headers: { accept: MANIFEST_V2 } });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), MANIFEST_V2);
  const manifest = await res.json();
  t.is(manifest.mediaType, MANIFEST_V2);
  t.is(manifest.config.mediaType, 'application/vnd.docker.container.image.v1+json');
  // ... the config blob, with the command and port of Docker Hub's nginx ...
  const config = await (await fetch(`${registry.hostUrl}/v2/library/nginx/blobs/${manifest.config.digest}`)).json();
  t.deepEqual(config.config.Cmd, ['nginx', '-g', 'daemon off;']);
  t.deepEqual(Object.keys(config.config.ExposedPorts), ['80/tcp']);
  t.is(config.os, 'linux');
  t.is(config.architecture, 'amd64');
  // ... and every layer.
  t.true(manifest.layers.length > 0);
  for (const layer of manifest.layers) {
    t.is(layer.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const blob = await fetch(`${registry.hostUrl}/v2/library/nginx/blobs/${layer.digest}`);
    t.is(blob.status, 200);
    t.is((await blob.arrayBuffer()).byteLength, layer.size);
  }

  const pulls = registry.pulls();
  t.true(pulls.some((p) => p.method === 'GET' && p.kind === 'manifests' && p.repo === 'library/nginx' && p.ref === 'latest' && p.status === 200));
  for (const layer of manifest.layers) t.true(pulls.some((p) => p.kind === 'blobs' && p.ref === layer.digest && p.status === 200));

  await registry.stop();
  t.false(registry.running);
  t.false(alive(pid), 'docker-registry is gone after stop');
  t.true(existsSync(join(dir, 'registry', 'docker', 'registry', 'v2', 'repositories', 'library', 'nginx')));
});

// Unpacking and chrooting into the image needs root: as another user the test is skipped, not passed.
const root = await input('not root (unpacking and chrooting into the image needs root)', () => (process.getuid?.() === 0 ? true : undefined));
ifPresent(test, 'running the nginx image', root)('the nginx image runs: its default site answers with the Debian page', async (t) => {
  const oci = await ensureNginxImage();
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'bundle');
  await execa('umoci', ['unpack', '--image', `${oci}:latest`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  t.deepEqual(spec.process.args, ['nginx', '-g', 'daemon off;']);
  // Only what nginx runs from (images/nginx/slim.sh): no package manager, perl or bash, but a /bin/sh.
  for (const gone of ['usr/bin/perl', 'usr/bin/dpkg', 'var/lib/dpkg', 'usr/bin/bash', 'usr/bin/ls']) t.false(existsSync(join(rootfs, gone)), `${gone} is in the image`);
  t.true(existsSync(join(rootfs, 'usr/bin/sh')));
  t.regex(readFileSync(join(oci, '..', 'packages.txt'), 'utf8'), /^nginx=1\./m);

  // The image's own config and page, moved from port 80 to a free loopback port.
  const port = await getPort({ host: '127.0.0.1' });
  const site = join(rootfs, 'etc/nginx/sites-available/default');
  writeFileSync(site, readFileSync(site, 'utf8').replace(/^\s*listen \[::\]:80 .*$/m, '').replace(/listen 80 default_server;/, `listen 127.0.0.1:${port} default_server;`));
  // Its own pid and mount namespace, with /proc for the /dev/stdout log links; all of it dies with unshare.
  const nginx = Daemon.start('nginx (image test)', [
    'unshare', '--fork', '--pid', '--mount', `--mount-proc=${join(rootfs, 'proc')}`, '--kill-child',
    'chroot', rootfs, ...spec.process.args,
  ], join(dir, 'nginx.log'));
  t.teardown(() => nginx.stop(1000));
  const page = await waitUntil('nginx in the image to answer', async () => {
    if (!nginx.running) throw new Error(`nginx exited: ${readFileSync(join(dir, 'nginx.log'), 'utf8')}`);
    const r = await fetch(`http://127.0.0.1:${port}/`).catch((e: Error) => { throw new NotYet(e.message); });
    return r.text();
  }, { timeoutMs: 15_000, intervalMs: 100 });
  t.regex(page, /Welcome to nginx!/);
  await nginx.stop(1000);
  // Killing unshare takes its pid namespace down: no process is left running in the image.
  await waitUntil('the image\'s nginx processes to go', async () => {
    const left = processesIn(rootfs);
    if (left.length) throw new NotYet(left.join(', '));
  }, { timeoutMs: 5_000, intervalMs: 100 });
  // The access log went to the container's stdout.
  t.regex(readFileSync(join(dir, 'nginx.log'), 'utf8'), /"GET \/ HTTP\/1.1" 200/);
});

/** Pids of the processes whose root directory is dir (zombies have none). */
function processesIn(dir: string): string[] {
  return readdirSync('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && readlinkSync(`/proc/${p}/root`) === dir;
    } catch {
      return false;
    }
  });
}
