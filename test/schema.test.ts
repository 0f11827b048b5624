// The scenario format is written once, as a JSON Schema: the loader's key lists come from it,
// `corelab schema` prints it, scenario.schema.json is it, and every scenario file validates.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { SCENARIO_SCHEMA, KEYS } from '../lab/scenario/schema.js';
import { loadScenario } from '../lab/scenario/loader.js';
import { corelab } from './helpers/lab.js';
import { scenario, tempTree } from './helpers/files.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(SCENARIO_SCHEMA);

function scenarioFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.yaml') && /^steps:/m.test(readFileSync(join(e.parentPath, e.name), 'utf8')))
    .map((e) => join(e.parentPath, e.name));
}

test('scenario.schema.json is what corelab schema prints, and the schema itself', async (t) => {
  const r = await corelab(['schema']);
  t.is(r.exitCode, 0);
  t.deepEqual(JSON.parse(r.stdout), SCENARIO_SCHEMA);
  t.deepEqual(JSON.parse(readFileSync('scenario.schema.json', 'utf8')), SCENARIO_SCHEMA, 'regenerate it: node bin/corelab.js schema > scenario.schema.json');
});

test('every scenario and fixture validates against the schema and names it for editors', (t) => {
  const files = [...scenarioFiles('scenarios'), ...scenarioFiles('test/fixtures')];
  t.true(files.length >= 8, files.join(', '));
  for (const f of files) t.true(validate(parse(readFileSync(f, 'utf8'))), `${f}: ${ajv.errorsText(validate.errors)}`);
  for (const f of scenarioFiles('scenarios')) t.regex(readFileSync(f, 'utf8'), /^# yaml-language-server: \$schema=\.\.\/\.\.\/scenario\.schema\.json$/m, f);
});

test('the schema refuses what the loader refuses: unknown keys, bad names, out-of-range numbers', (t) => {
  const base = parse(readFileSync('test/fixtures/one-node/scenario.yaml', 'utf8'));
  for (const bad of [{ ...base, nodez: {} }, { ...base, name: '../x' }, { ...base, defaults: { cpus: 1000 } }, { ...base, steps: [{ name: 'x', run: 'true', expcet: {} }] }]) {
    t.false(validate(bad), JSON.stringify(bad).slice(0, 80));
  }
});

test('the loader takes every key the schema has (the key lists are the schema\'s)', (t) => {
  t.deepEqual(KEYS.top, Object.keys(SCENARIO_SCHEMA.properties));
  t.deepEqual(KEYS.step, Object.keys(SCENARIO_SCHEMA.$defs.step.properties));
  // A scenario with every key of the schema, at every level.
  const body = `name: every-key
description: all of them
image: labos
requires: []
network: { subnet: 192.168.0.0/24 }
discovery: { size: 1 }
registry: { images: [nginx] }
defaults: { memory: 512, cpus: 1, drive: cidata }
timeouts: { boot: 10m, step: 1m, scenario: 1h }
nodes:
  a: { address: 192.168.0.10, config: cloud-config.yaml, memory: 1024, cpus: 2, drive: config-2, ports: [80] }
steps:
  - name: one
    note: a note
    checkpoint: after-one
    on: a
    run: echo hi
    expect: { exit: 0, stdout: [{ contains: hi, times: 1 }, { matches: "^hi$" }, { equals: hi }], stderr: [], table: [{ where: { A: b }, count: 0, history: true }] }
    until: { timeout: 1m, interval: 1s }
    timeout: 30s
    capture: { word: { stdout: "(hi)" }, cell: { table: { where: { A: b }, column: A } } }
  - { name: fetch, http: { url: "http://{{nodes.a.ports.80}}/", from: host, status: 200, body: [nginx] } }
  - { name: split, partition: [[a], [a]] }
  - { name: heal, heal: true }
  - { name: off, poweroff: a }
  - { name: on, poweron: a }
  - { name: button, shutdown: a }
  - { name: stop, pause: a }
  - { name: go, resume: a }
  - { name: unplug, linkdown: a }
  - { name: plug, linkup: a }
`;
  t.true(validate(parse(body)), ajv.errorsText(validate.errors));
  const tree = tempTree(scenario(body));
  t.teardown(tree.remove);
  const err = t.throws(() => loadScenario(tree.dir));
  // The only problem is the partition naming a node twice: every key was taken.
  t.regex(String((err as Error).message), /^a node stands in two partition groups$/);
});
