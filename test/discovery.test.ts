import test from 'ava';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryService } from '../lab/host/discovery.js';
import { alive } from '../lab/util/lock.js';
import { liveDaemons } from '../lab/host/proc.js';

test('a real etcd answers /new?size=N with a seeded token, proxies the registry, and stops cleanly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const d = await DiscoveryService.start(dir);
  const pids = liveDaemons().map((x) => x.pid!);
  t.teardown(() => d.stop());
  const url = await d.newToken(3);
  t.regex(url, /^http:\/\/10\.0\.2\.100:2379\/v2\/keys\/_etcd\/registry\/[0-9a-f]{32}$/);
  // The size key sits in the real etcd, read back through the front as a guest's etcd would.
  const path = new URL(url).pathname;
  const size = await (await fetch(`${d.hostUrl}${path}/_config/size`)).json();
  t.is(size.node.value, '3');
  const direct = await (await fetch(`http://127.0.0.1:${d.etcdPort}${path}/_config/size`)).json();
  t.is(direct.node.value, '3');
  t.is((await fetch(`${d.hostUrl}/new?size=0`)).status, 400);
  t.true(existsSync(join(dir, 'discovery-etcd')));
  await d.stop();
  t.false(pids.some((p) => alive(p)), 'etcd is gone after stop');
});
