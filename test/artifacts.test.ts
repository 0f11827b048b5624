import test from 'ava';
import { mkdirSync, writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveArtifact, importTarball, pullArtifact, ARTIFACTS, artifactsCacheDir } from '../lab/artifacts.js';
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
