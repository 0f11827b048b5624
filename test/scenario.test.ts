import test from 'ava';
import { loadScenario, FileProblems } from '../lab/scenario/loader.js';
import { loadPlan } from '../lab/run/plan.js';
import { loadCatalog } from '../lab/images/catalog.js';

const catalog = loadCatalog();
import { scenario, tempTree } from './helpers/files.js';

const GOOD = `name: t
nodes:
  a: { address: 192.168.0.10, config: cloud-config.yaml }
  b: { address: 192.168.0.11, config: cloud-config.yaml }
steps:
  - name: hello
    on: a
    run: echo hi
    expect:
      stdout: hi
  - name: off
    poweroff: b
`;

function problems(t: import('ava').ExecutionContext, body: string, files: Record<string, string> = {}): FileProblems {
  const tree = tempTree({ ...scenario(body), ...files });
  t.teardown(tree.remove);
  const err = t.throws(() => loadPlan(tree.dir, { catalog }), { instanceOf: FileProblems });
  return err as FileProblems;
}

test('the etcd-discovery scenario loads into a plan', (t) => {
  const plan = loadScenario('scenarios/etcd-discovery');
  t.is(plan.name, 'etcd-discovery');
  t.deepEqual(plan.nodes.map((n) => [n.name, n.address]), [['node00', '192.168.0.10'], ['node01', '192.168.0.11'], ['node02', '192.168.0.12']]);
  t.deepEqual(plan.discovery, { size: 3 });
  t.true(plan.steps.some((s) => s.kind === 'poweroff' && s.node === 'node01'));
  t.true(plan.nodes[0].config.startsWith('#cloud-config'));
});

test('a good scenario gets defaults', (t) => {
  const tree = tempTree(scenario(GOOD));
  t.teardown(tree.remove);
  const plan = loadScenario(tree.dir);
  t.is(plan.image, 'labos');
  t.is(plan.prefix, 24);
  t.is(plan.nodes[0].memoryMb, 1024);
  const step = plan.steps[0];
  t.is(step.kind, 'run');
  if (step.kind === 'run') t.deepEqual(step.expect.stdout, [{ contains: 'hi' }]);
});

test('an unknown top-level key names the key, its line and a did-you-mean', (t) => {
  const err = problems(t, GOOD.replace('steps:', 'nodez: {}\nsteps:'));
  const text = err.format();
  t.regex(text, /scenario\.yaml:5:1: unknown key "nodez" in the scenario/);
  t.regex(text, /fix: did you mean "nodes"\?/);
});

test('broken YAML names the line and says to fix the syntax', (t) => {
  const err = problems(t, 'name: t\nnodes:\n  a: { address: 192.168.0.10, config: x\nsteps: []\n');
  t.regex(err.format(), /scenario\.yaml:\d+:\d+: YAML: /);
  t.regex(err.format(), /fix: correct the YAML syntax/);
});

test('a step naming a node that does not exist', (t) => {
  const err = problems(t, GOOD.replace('on: a', 'on: c'));
  t.regex(err.format(), /:7:9: step "hello" names node "c", which the scenario does not define\n  fix: use one of: a, b/);
});

test('an undefined variable in a step and in a node config', (t) => {
  const err = problems(t, GOOD.replace('echo hi', 'echo {{discovery.url}}'), { 'cloud-config.yaml': '#cloud-config\nhostname: "{{node.nmae}}"\n' });
  const text = err.format();
  t.regex(text, /step "hello" uses undefined variable \{\{discovery\.url\}\}/);
  t.regex(text, /cloud-config\.yaml:2:12: undefined variable \{\{node\.nmae\}\}\n  fix: known in node configs: /);
});

test('a missing config file names the path it looked for', (t) => {
  const err = problems(t, GOOD.replace('a: { address: 192.168.0.10, config: cloud-config.yaml }', 'a: { address: 192.168.0.10, config: nope.yaml }'));
  t.regex(err.format(), /:3:\d+: config file nope\.yaml of node "a" does not exist/);
});

test('wrong types, bad addresses and a step with two actions', (t) => {
  const body = GOOD.replace('192.168.0.11', '10.0.0.1').replace('  - name: off\n    poweroff: b\n', '  - name: off\n    poweroff: b\n    run: ls\n').replace('name: t\n', 'name: t\ndefaults: { memory: lots }\n');
  const text = problems(t, body).format();
  t.regex(text, /defaults\.memory \(MiB\) must be a whole number/);
  t.regex(text, /address 10\.0\.0\.1 of node "b" is not a host address inside 192\.168\.0\.0\/24/);
  t.regex(text, /must have exactly one of run, http, partition, heal, poweroff, /);
  t.regex(text, /fix: split it into one step per action \(run, poweroff\)/);
});

test('an unknown key inside a step suggests the right one', (t) => {
  const text = problems(t, GOOD.replace('    expect:', '    expcet:')).format();
  t.regex(text, /unknown key "expcet" in step 1\n  fix: did you mean "expect"\?/);
});

test('captured values are known only to the steps after the capture', (t) => {
  const body = GOOD.replace('  - name: off\n    poweroff: b\n', `  - name: use early
    on: b
    run: echo {{token}}
  - name: capture
    on: a
    run: echo token=abc
    capture:
      token: { stdout: 'token=(\\w+)' }
  - name: use later
    on: b
    run: echo {{token}}
  - name: off
    poweroff: '{{token}}'
`);
  const text = problems(t, body).format();
  t.regex(text, /step "use early" uses undefined variable \{\{token\}\}/);
  t.notRegex(text, /step "use later"/);
  t.notRegex(text, /step "off"/);
});

test('a capture needs a regex group, and the registry serves only known images', (t) => {
  const body = GOOD.replace('      stdout: hi\n', '      stdout: hi\n    capture:\n      x: { stdout: "hi" }\n').replace('name: t\n', 'name: t\nregistry: { images: [nginx, redis] }\n');
  const text = problems(t, body).format();
  t.regex(text, /capture "x" needs a \(group\) in its regex/);
  t.regex(text, /the lab cannot serve image "redis"\n  fix: use one of: nginx/);
});

test('the swarm scenario loads, with a table capture and a templated power-off', (t) => {
  const plan = loadScenario('scenarios/swarm-drain-replicate');
  t.deepEqual(plan.registry, { images: ['nginx'] });
  const off = plan.steps.find((s) => s.kind === 'poweroff');
  t.is(off?.node, '{{task_node}}');
  t.true(plan.steps.some((s) => s.kind === 'poweron'));
});

test('fault steps, http checks, partitions and steps on several nodes', (t) => {
  const body = GOOD.replace('  b: { address: 192.168.0.11, config: cloud-config.yaml }', '  b: { address: 192.168.0.11, config: cloud-config.yaml, ports: [80] }').replace('  - name: off\n    poweroff: b\n', `  - name: both
    on: [a, b]
    run: hostname
  - name: split
    partition: [[a], [b]]
  - name: heal it
    heal: true
  - name: cable
    linkdown: b
  - name: from the host
    http: { url: 'http://{{nodes.b.ports.80}}/', status: 200, body: nginx }
    until: { timeout: 1m, interval: 2s }
  - name: from a
    http: { url: 'http://{{nodes.b.address}}/', from: a }
`);
  const tree = tempTree(scenario(body));
  t.teardown(tree.remove);
  const plan = loadScenario(tree.dir);
  t.deepEqual(plan.steps.map((s) => s.kind), ['run', 'run', 'partition', 'heal', 'linkdown', 'http', 'http']);
  const both = plan.steps[1];
  if (both.kind === 'run') t.deepEqual(both.nodes, ['a', 'b']);
  const part = plan.steps[2];
  if (part.kind === 'partition') t.deepEqual(part.groups, [['a'], ['b']]);
  const http = plan.steps[5];
  if (http.kind === 'http') t.like(http, { node: 'host', status: 200, body: [{ contains: 'nginx' }] });
  t.deepEqual(plan.nodes[1].ports, [80]);
});

test('a partition needs two groups of known nodes, each node once', (t) => {
  const text = problems(t, GOOD.replace('  - name: off\n    poweroff: b\n', '  - name: split\n    partition: [[a, b], [b, c]]\n')).format();
  t.regex(text, /names node "c", which the scenario does not define/);
  t.regex(text, /a node stands in two partition groups/);
});

test('node configs are linted: header, YAML, known keys with a did-you-mean, unit commands', (t) => {
  const config = 'hostname: "{{node.name}}"\nwrite_file:\n  - path: /x\ncoreos:\n  etcd2: {}\n  unit:\n    - name: a\n  units:\n    - name: etcd2.service\n      command: strat\n';
  const text = problems(t, GOOD, { 'cloud-config.yaml': config }).format();
  t.regex(text, /cloud-config\.yaml:1:1: a node config must start with the line "#cloud-config"/);
  t.regex(text, /cloud-config\.yaml:2:1: unknown key "write_file" in the cloud-config\n  fix: did you mean "write_files"\?/);
  t.regex(text, /cloud-config\.yaml:6:3: unknown key "unit" in coreos\n  fix: did you mean "units"\?/);
  t.regex(text, /cloud-config\.yaml:10:16: unknown unit command "strat"\n  fix: did you mean "start"\?/);
});

test('a node config that is not valid YAML is named with its line', (t) => {
  const text = problems(t, GOOD, { 'cloud-config.yaml': '#cloud-config\nhostname: [x\n' }).format();
  t.regex(text, /cloud-config\.yaml:\d+:\d+: YAML: /);
});

test('node configs are linted for the keys their image reads: RancherOS rancher:, Flatcar coreos-cloudinit, Ignition JSON', (t) => {
  const on = (image: string) => GOOD.replace('name: t\n', `name: t\nimage: ${image}\n`);
  // RancherOS: rancher: is fine, cloud-init's runcmd too; coreos: is not read there.
  const rancher = problems(t, on('rancheros-1.5.8'), { 'cloud-config.yaml': '#cloud-config\nrancher:\n  docker: {}\ncoreos:\n  units: []\n' }).format();
  t.regex(rancher, /cloud-config\.yaml:4:1: unknown key "coreos" in the cloud-config \(rancheros-1\.5\.8 reads it with rancheros\)/);
  t.notRegex(rancher, /"rancher"/);
  // Flatcar: coreos-cloudinit has no runcmd or packages.
  const flatcar = problems(t, on('flatcar-stable'), { 'cloud-config.yaml': '#cloud-config\nruncmd: [ls]\ncoreos:\n  etcd2: {}\n' }).format();
  t.regex(flatcar, /cloud-config\.yaml:2:1: unknown key "runcmd" in the cloud-config \(flatcar-stable reads it with coreos-cloudinit\)/);
  // Flatcar and labos take Ignition JSON too, checked as JSON; RancherOS does not.
  const tree = tempTree({ ...scenario(on('flatcar-stable')), 'cloud-config.yaml': '{"ignition": {"version": "3.3.0"}}\n' });
  t.teardown(tree.remove);
  t.is(loadScenario(tree.dir).image, 'flatcar-stable');
  t.regex(problems(t, on('flatcar-stable'), { 'cloud-config.yaml': '{"ignition": {}}\n' }).format(), /cloud-config\.yaml:1:2: an Ignition config needs ignition\.version/);
  t.regex(problems(t, on('flatcar-stable'), { 'cloud-config.yaml': '{"ignition":\n  {"version": "3.3.0",}}\n' }).format(), /cloud-config\.yaml:2:\d+: not valid JSON/);
  t.regex(problems(t, on('rancheros-1.5.8'), { 'cloud-config.yaml': '{"ignition": {"version": "3.3.0"}}\n' }).format(), /must start with the line "#cloud-config"/);
  const labos = tempTree({ ...scenario(GOOD), 'cloud-config.yaml': '{"ignition": {"version": "2.0.0"}}\n' });
  t.teardown(labos.remove);
  t.is(loadPlan(labos.dir).image, 'labos');
});

test('the Flatcar and RancherOS variants load from their files, next to the labos scenario.yaml', (t) => {
  const flatcar = loadScenario('scenarios/etcd-discovery/flatcar.yaml');
  t.is(flatcar.name, 'etcd-discovery-flatcar');
  t.is(flatcar.image, 'flatcar-stable');
  t.true(flatcar.nodes.every((n) => n.memoryMb === 2048 && n.drive === 'config-2' && n.configFile.endsWith('flatcar-cloud-config.yaml')));
  const rancher = loadScenario('scenarios/swarm-drain-replicate/rancheros.yaml');
  t.is(rancher.image, 'rancheros-1.5.8');
  t.is(rancher.steps.length, loadScenario('scenarios/swarm-drain-replicate').steps.length);
  t.is(loadScenario('scenarios/etcd-discovery').image, 'labos', 'the folder still means its scenario.yaml');
});
