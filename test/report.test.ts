import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeReports } from '../lab/report/report.js';
import type { ScenarioResult } from '../lab/run/results.js';
import { which } from '../lab/host/tools.js';
import { tempTree } from './helpers/files.js';
import { buildProfile } from '../lab/cluster/bootprofile.js';

// A boot profile built from outputs captured on a real labos VM (test/fixtures/captured/boot-*).
const captured = (f: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'captured', f), 'utf8');
const profile = buildProfile(captured('boot-profile.txt'), captured('boot-console.txt'), 118_000);

const t0 = Date.parse('2026-11-25T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const step = (index: number, name: string, node: string, start: number, secs: number, status: 'passed' | 'failed' | 'skipped', extra = {}) => ({
  index, name, kind: 'run' as const, node, line: 10 + index, status, startedAt: at(start), durationMs: secs * 1000, attempts: 1, command: 'etcdctl cluster-health', stdout: 'member 1 is healthy\ncluster <is> "healthy"\n', ...extra,
});
const result: ScenarioResult = {
  scenario: 'etcd-discovery',
  file: 'scenarios/etcd-discovery/scenario.yaml',
  status: 'failed',
  startedAt: at(0),
  durationMs: 200_000,
  accel: 'tcg',
  phases: { image: 100, boot: 100_000 },
  checkpoint: { coldReason: 'checkpoint "formed" saved 2026-11-25T09:00:00.000Z is stale: node00\'s config (c.yaml) changed since', saved: [{ name: 'formed', key: 'abc', ms: 7000, bytes: 4e8 }] },
  nodes: ['node00', 'node01'].map((name, i) => ({ name, address: `192.168.0.1${i}`, agent: i === 0 ? ('ignition' as const) : ('cloud-init' as const), guestSshPort: i === 0 ? 2345 : 22, bootStartedAt: at(5), bootMs: 90_000 + i * 5000, maxRssMb: 700, console: `consoles/${name}.log`, boot: i === 0 ? profile : undefined, reboots: i === 1 ? [{ startedAt: at(160), bootMs: 30_000, boot: profile }] : undefined })),
  steps: [
    step(0, 'cluster forms', 'node00', 100, 40, 'passed'),
    step(1, 'both nodes', 'node00,node01', 140, 10, 'passed'),
    step(2, 'four healthy members', 'node00', 150, 2, 'failed', { exitCode: 0, failures: ['stdout should match /x/ 4 time(s), found 3'] }),
    { ...step(3, 'node01 loses power', 'node01', 152, 1, 'passed'), kind: 'poweroff' as const, command: undefined, stdout: undefined },
    { ...step(4, 'node01 is back', 'node01', 155, 35, 'passed'), kind: 'poweron' as const, command: undefined, stdout: undefined },
    { ...step(5, 'never reached', 'node01', 192, 0, 'skipped'), command: undefined, stdout: undefined, attempts: 0, message: 'an earlier step failed' },
  ],
};

test('junit.xml has one test case per step, failures with command and output, escaped', (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  writeReports(out.dir, [result]);
  const xml = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is((xml.match(/<testcase /g) ?? []).length, 6);
  t.regex(xml, /<testsuite name="etcd-discovery" file="scenarios\/etcd-discovery\/scenario.yaml" tests="6" failures="1" errors="0" skipped="1"/);
  t.regex(xml, /<failure message="stdout should match \/x\/ 4 time\(s\), found 3">on node00: \$ etcdctl cluster-health\nexit status: 0/);
  t.regex(xml, /cluster &lt;is&gt; &quot;healthy&quot;/);
  t.regex(xml, /<skipped message="an earlier step failed"\/>/);
  const json = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8'));
  t.is(json.scenarios[0].steps[0].durationMs, 40_000);
  t.like(json.scenarios[0].nodes[0], { name: 'node00', agent: 'ignition', guestSshPort: 2345 });
  t.like(json.scenarios[0].nodes[1], { name: 'node01', agent: 'cloud-init', guestSshPort: 22 });
});

// Debian's chromium, which scripts/setup.sh installs; without it this test is skipped, and says why.
const chromium = which('chromium');
if (!chromium) console.log('# skipping the report.html check: Debian\'s chromium is not installed (scripts/setup.sh installs it)');
(chromium ? test : test.skip)('report.html draws the timeline in headless Chromium', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  writeReports(out.dir, [result]);
  const r = await execa(chromium!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${join(out.dir, 'profile')}`, '--window-size=1200,900',
    '--dump-dom', `file://${join(out.dir, 'report.html')}`,
  ], { timeout: 90_000 });
  const dom = r.stdout;
  t.regex(dom, /data-rendered="yes"/, 'the report script ran');
  t.is((dom.match(/class="lane"/g) ?? []).length, 4, 'lanes for node00, node01, lab and host');
  t.is((dom.match(/class="bar boot"/g) ?? []).length, 3, 'a boot bar per node, and one for the power-on');
  t.is((dom.match(/class="bar passed"/g) ?? []).length, 5, 'a bar per step and node: the two-node step has two');
  for (const phase of ['load', 'kernel', 'initrd', 'userspace', 'cloudinit']) t.is((dom.match(new RegExp(`class="seg ${phase}"`, 'g')) ?? []).length - 1, phase === 'cloudinit' ? 4 : 2, `${phase}: in each profiled boot bar (and once in the legend); cloud-init: 3 services, the power-on's cut at the run's end`);
  t.is((dom.match(/class="mark ssh"/g) ?? []).length, 2, 'SSH ready marked in each profiled boot');
  t.regex(dom, /<div class="mark fault" title="4\. node01 loses power" style="[^"]*"><span>poweroff<\/span><\/div>/);
  t.regex(dom, /<div class="mark fault" title="5\. node01 is back" style="[^"]*"><span>poweron<\/span><\/div>/);
  t.true((dom.match(/class="tick"/g) ?? []).length >= 5, 'the time axis has ticks');
  t.regex(dom, /<span>100 s<\/span>/);
  t.regex(dom, /<h3>boot profiles<\/h3>/);
  t.regex(dom, /26\.9 s cloud-init-local\.service/, 'the slowest units of the captured boot');
  t.regex(dom, /<td>node01 \(power-on 1\)<\/td>/);
  t.is((dom.match(/class="bar failed"/g) ?? []).length, 1);
  t.regex(dom, /<a href="consoles\/node00\.log">node00<\/a>/);
  t.regex(dom, /<li>node00 192\.168\.0\.10: config applied by ignition, SSH forwarded to guest port 2345<\/li>/);
  t.regex(dom, /<li>node01 192\.168\.0\.11: config applied by cloud-init, SSH forwarded to guest port 22<\/li>/);
  t.regex(dom, /<div class="lane-name" title="config applied by ignition, SSH forwarded to guest port 2345">node00<\/div>/);
  t.regex(dom, /stdout should match \/x\/ 4 time\(s\), found 3/);
  t.regex(dom, /<p class="checkpoint">cold run: checkpoint "formed" saved 2026-11-25T09:00:00\.000Z is stale: node00's config \(c\.yaml\) changed since<\/p>/);
  t.regex(dom, /<p class="checkpoint">saved checkpoint "formed" in 7\.0 s<\/p>/);
});
