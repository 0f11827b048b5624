import test from 'ava';
import { mkdirSync, writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveArtifact, importArtifact, importTarball, pullArtifact, ARTIFACTS, artifactsCacheDir } from '../lab/images/artifacts.js';
import { tempTree } from './helpers/files.js';

/** A stand-in release tarball laid out like fleet's (fake programs: this tests the plumbing only). */
async function fakeRelease(dir: string, content = 'fleetd v1'): Promise<string> {
  const top = join(dir, 'fleet-v1.0.0-linux-amd64');
  mkdirSync(top, { recursive: true });
  for (const b of ['fleetd', 'fleetctl']) {
    writeFileSync(join(top, b), `#!/bin/sh\necho ${b} ${content}\n`);
    chmodSync(join(top, b), 0o755);
  }
  const tarball = join(dir, 'fleet-v1.0.0-linux-amd64.tar.gz');
  await execa('tar', ['-czf', tarball, '-C', dir, 'fleet-v1.0.0-linux-amd64']);
  rmSync(top, { recursive: true });
  return tarball;
}

test.serial('an artifacts folder with the release tarball is unpacked into the cache, digest recorded and checked', async (t) => {
  const cache = tempTree({});
  const src = tempTree({});
  t.teardown(() => { cache.remove(); src.remove(); });
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => delete process.env.CORELAB_CACHE);
  await fakeRelease(src.dir);
  const a = await resolveArtifact('fleet', src.dir);
  t.truthy(a);
  t.is(a!.binaries.fleetd, join(artifactsCacheDir(ARTIFACTS.fleet), 'fleetd'));
  t.regex(readFileSync(a!.binaries.fleetctl, 'utf8'), /fleetctl fleetd v1/);
  // Later runs find it in the cache without the folder.
  t.truthy(await resolveArtifact('fleet', undefined));
  // A different tarball under the same name is refused.
  const other = tempTree({});
  t.teardown(other.remove);
  await t.throwsAsync(importTarball(ARTIFACTS.fleet, await fakeRelease(other.dir, 'tampered')), { message: /is not the fleet-v1\.0\.0-linux-amd64\.tar\.gz recorded before/ });
  // A changed cached binary is found out.
  writeFileSync(a!.binaries.fleetd, 'changed');
  await t.throwsAsync(resolveArtifact('fleet', undefined), { message: /does not match the digest recorded/ });
});

test.serial('loose fleetd and fleetctl in a folder are used as they are; nothing anywhere means undefined', async (t) => {
  const cache = tempTree({});
  const src = tempTree({ fleetd: 'x', fleetctl: 'y' });
  t.teardown(() => { cache.remove(); src.remove(); });
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => delete process.env.CORELAB_CACHE);
  const a = await resolveArtifact('fleet', src.dir);
  t.is(a!.source, src.dir);
  t.is(await resolveArtifact('fleet', undefined), undefined);
  await t.throwsAsync(resolveArtifact('fleet', join(src.dir, 'nope')), { message: /does not exist/ });
});

test.serial('artifacts pull fetches the release from a mirror, records its digest, and refuses a different one later', async (t) => {
  const cache = tempTree({});
  const src = tempTree({});
  t.teardown(() => { cache.remove(); src.remove(); });
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => delete process.env.CORELAB_CACHE);
  let body = readFileSync(await fakeRelease(src.dir));
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (req.url === '/coreos/fleet/releases/download/v1.0.0/fleet-v1.0.0-linux-amd64.tar.gz') res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const a = await pullArtifact('fleet', { mirror });
  t.regex(readFileSync(a.binaries.fleetd, 'utf8'), /fleetd fleetd v1/);
  t.is(requests, 1);
  // The mirror now serves another file under the same name: refused, the cache keeps the first.
  rmSync(join(cache.dir, 'downloads'), { recursive: true, force: true });
  body = readFileSync(await fakeRelease(src.dir, 'other'));
  await t.throwsAsync(pullArtifact('fleet', { mirror }), { message: /mismatch/i });
  t.regex(readFileSync((await resolveArtifact('fleet', undefined))!.binaries.fleetd, 'utf8'), /fleetd v1/);
});

/** A stand-in etcd binary that reports a version, as `etcd --version` does. */
function fakeEtcd(dir: string, name: 'etcd' | 'etcdctl', version = '3.4.23', extra = ''): string {
  mkdirSync(dir, { recursive: true });
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\necho "${name === 'etcd' ? 'etcd' : 'etcdctl'} Version: ${version}"\necho "Go Version: go1.19.8"\n${extra}\n`);
  chmodSync(f, 0o755);
  return f;
}

test.serial('etcd from loose binaries (as Debian ships them): imported one by one, version recorded, a 3.6 refused', async (t) => {
  const cache = tempTree({});
  const src = tempTree({});
  t.teardown(() => { cache.remove(); src.remove(); });
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => delete process.env.CORELAB_CACHE);
  const spec = ARTIFACTS.etcd;
  t.deepEqual(spec.binaries, ['etcd', 'etcdctl']);
  // etcd 3.6 has no v2 API: refused before anything is kept.
  await t.throwsAsync(importArtifact(spec, fakeEtcd(join(src.dir, 'new'), 'etcd', '3.6.1')), { message: /is etcd 3\.6\.1, which the lab cannot use: .*3\.6 removed/ });
  t.is(await resolveArtifact('etcd', undefined), undefined);

  const first = await importArtifact(spec, fakeEtcd(join(src.dir, 'usr-bin'), 'etcd'));
  t.deepEqual(first.missing, ['etcdctl']);
  t.is(first.artifact, undefined);
  t.is(await resolveArtifact('etcd', undefined), undefined, 'not usable until etcdctl is there too');
  const both = await importArtifact(spec, fakeEtcd(join(src.dir, 'usr-bin'), 'etcdctl'));
  t.deepEqual(both.missing, []);
  t.is(both.artifact!.version, '3.4.23', 'the version the binary reports, not the release the lab would pull');
  const a = (await resolveArtifact('etcd', undefined))!;
  t.is(a.version, '3.4.23');
  t.regex(readFileSync(a.binaries.etcd, 'utf8'), /etcd Version: 3\.4\.23/);
  t.regex(a.source, /usr-bin\/etcd/);
  // Another binary under the same name is refused; a changed cached one is found out.
  await t.throwsAsync(importArtifact(spec, fakeEtcd(join(src.dir, 'other'), 'etcd', '3.4.23', '# other build')), { message: /is not the etcd recorded before/ });
  writeFileSync(a.binaries.etcdctl, 'changed');
  await t.throwsAsync(resolveArtifact('etcd', undefined), { message: /does not match the digest recorded/ });
  // A file that is neither the tarball nor one of its binaries.
  writeFileSync(join(src.dir, 'fleetd'), 'x');
  await t.throwsAsync(importArtifact(spec, join(src.dir, 'fleetd')), { message: /neither a release tarball .* nor one of etcd's binaries \(etcd, etcdctl\)/ });
});

test.serial('an etcd 3.4.x release tarball other than the pinned one is taken from an artifacts folder, its version from the name', async (t) => {
  const cache = tempTree({});
  const src = tempTree({});
  t.teardown(() => { cache.remove(); src.remove(); });
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => delete process.env.CORELAB_CACHE);
  const top = join(src.dir, 'etcd-v3.4.30-linux-amd64');
  fakeEtcd(top, 'etcd', '3.4.30');
  fakeEtcd(top, 'etcdctl', '3.4.30');
  await execa('tar', ['-czf', join(src.dir, 'etcd-v3.4.30-linux-amd64.tar.gz'), '-C', src.dir, 'etcd-v3.4.30-linux-amd64']);
  rmSync(top, { recursive: true });
  const a = await resolveArtifact('etcd', src.dir);
  t.is(a!.version, '3.4.30');
  t.is(a!.binaries.etcd, join(artifactsCacheDir(ARTIFACTS.etcd), 'etcd'));
  t.regex(readFileSync(a!.binaries.etcd, 'utf8'), /3\.4\.30/);
  t.is((await resolveArtifact('etcd', undefined))!.version, '3.4.30');
});
