// Real VM tests of the article's first configs on labos (issue 12): its cloud-config, its Ignition
// JSON (spec 2.0.0, translated for Debian's Ignition 2.14 in labos's initramfs), and the etcd
// cluster formed in the article's order with coreos-cloudinit --from-file. Nothing is mocked.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertLabGone, corelab } from './helpers/lab.js';
import { tempTree } from './helpers/files.js';

interface Report { scenarios: Array<{ status: string; nodes: Array<{ name: string; agent?: string; guestSshPort?: number }>; steps: Array<{ name: string; status: string }> }> }

async function runScenario(t: import('ava').ExecutionContext, file: string, scenario: string, steps: number): Promise<Report['scenarios'][0]> {
  const out = tempTree({});
  t.teardown(out.remove);
  const r = await corelab(['run', '--cold', file, '--report', out.dir]);
  t.log(r.all.split('\n').slice(-30).join('\n'));
  t.is(r.exitCode, 0, 'corelab run exits 0');
  const s = (JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')) as Report).scenarios[0];
  t.is(s.status, 'passed');
  t.is(s.steps.length, steps);
  t.deepEqual(s.steps.filter((x) => x.status !== 'passed').map((x) => x.name), [], 'every step passed');
  assertLabGone(t, scenario, r.all);
  return s;
}

test.serial('basic-config: the article\'s cloud-config sets the hostname, NTP, eth0 and moves sshd to 2345, and the lab follows it', async (t) => {
  const s = await runScenario(t, 'scenarios/basic-config/scenario.yaml', 'basic-config', 7);
  t.deepEqual(s.nodes.map((n) => [n.name, n.agent, n.guestSshPort]), [['node01', 'cloud-init', 2345]]);
});

test.serial('basic-config/ignition.yaml: the article\'s Ignition JSON (2.0.0) makes a btrfs ROOT, writes its files and units, sshd on 2345', async (t) => {
  const s = await runScenario(t, 'scenarios/basic-config/ignition.yaml', 'basic-config-ignition', 7);
  t.deepEqual(s.nodes.map((n) => [n.name, n.agent, n.guestSshPort]), [['node01', 'ignition', 2345]]);
});

test.serial('etcd-discovery/article-order.yaml: etcd2 added after boot and applied with coreos-cloudinit --from-file forms the cluster', async (t) => {
  await runScenario(t, 'scenarios/etcd-discovery/article-order.yaml', 'etcd-discovery-article-order', 11);
});
