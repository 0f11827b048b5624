import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { YamlSource, FileProblems } from './yamlsource.js';
import { LabError } from '../util/errors.js';
import { unknownNames } from '../util/template.js';
import { lintNodeConfig } from '../guestconfig/lint.js';
import { ARTIFACTS } from '../images/artifacts.js';
import { inSubnet, parseSubnet } from '../host/switch.js';
import type { DriveKind } from '../guestconfig/configdrive.js';
import { loadCatalog } from '../images/catalog.js';
import { imageNameProblem } from '../run/plan.js';

/** Checks on a command's output; a plain string means "contains". */
export interface Matcher {
  contains?: string;
  matches?: string;
  equals?: string;
  /** With contains/matches: exactly this many occurrences. */
  times?: number;
}

/** Rows of the table a command printed (docker node ls, docker service ps, fleetctl list-units). */
export interface TableCheck {
  /** Column name → exact value, or /regex/. */
  where: Record<string, string>;
  /** Exactly this many rows; without it, at least one. */
  count?: number;
  /** Count `\\_` history rows of docker service ps too. */
  history?: boolean;
}

export interface Expectation {
  exit?: number;
  stdout: Matcher[];
  stderr: Matcher[];
  table: TableCheck[];
}

/** A value taken from a step's output for later steps: the first group of a regex, or a table cell. */
export type Capture = { name: string; stdout: string } | { name: string; table: { where: Record<string, string>; column: string } };

interface StepBase {
  index: number;
  name: string;
  line: number;
  note?: string;
  /** Save the lab after this step under this name; a later run restores it instead of replaying. */
  checkpoint?: string;
}

export interface RunStep extends StepBase {
  kind: 'run';
  /** The nodes it runs on, at once; node is their names joined, for reports. */
  node: string;
  nodes: string[];
  command: string;
  expect: Expectation;
  /** Retry until the expectation holds, or fail after timeoutMs. */
  until?: { timeoutMs: number; intervalMs: number };
  /** For one attempt of the command. */
  timeoutMs: number;
  capture: Capture[];
}

/** Faults and power actions on one node. */
export const NODE_ACTIONS = ['poweroff', 'poweron', 'shutdown', 'pause', 'resume', 'linkdown', 'linkup'] as const;
export type NodeAction = (typeof NODE_ACTIONS)[number];

export interface NodeActionStep extends StepBase {
  kind: NodeAction;
  node: string;
}

/** Cuts the lab network between groups of nodes (each group keeps talking inside itself). */
export interface PartitionStep extends StepBase {
  kind: 'partition';
  node: string;
  groups: string[][];
}

/** Undoes every partition. */
export interface HealStep extends StepBase {
  kind: 'heal';
  node: string;
}

/** An HTTP GET from a node (with curl) or from the host. */
export interface HttpStep extends StepBase {
  kind: 'http';
  /** A node name, or "host". */
  node: string;
  url: string;
  status: number;
  body: Matcher[];
  until?: { timeoutMs: number; intervalMs: number };
  timeoutMs: number;
}

export type Step = RunStep | NodeActionStep | PartitionStep | HealStep | HttpStep;

export interface NodePlan {
  name: string;
  index: number;
  address: string;
  configFile: string;
  config: string;
  memoryMb: number;
  cpus: number;
  drive: DriveKind;
  /** Guest TCP ports the host reaches at 127.0.0.1:{{nodes.NAME.ports.PORT}}. */
  ports: number[];
}

/** A scenario file turned into what the lab needs to do: validated, with paths resolved. */
export interface Plan {
  file: string;
  name: string;
  description: string;
  /** A catalog entry (images/catalog.yaml); imageLine is where `image:` stands, for errors. */
  image: string;
  imageLine?: number;
  subnet: string;
  prefix: number;
  discovery?: { size: number };
  /** Artifacts the guests need (e.g. fleet); without them the scenario is skipped, with the reason. */
  requires: string[];
  /** Start the registry mirror, seeded with these images. */
  registry?: { images: string[] };
  nodes: NodePlan[];
  steps: Step[];
  bootTimeoutMs: number;
  /** The whole scenario, set-up included; the run is stopped and torn down after it. */
  scenarioTimeoutMs?: number;
}

const TOP = ['name', 'description', 'image', 'requires', 'network', 'discovery', 'registry', 'defaults', 'timeouts', 'nodes', 'steps'];
/** Container images the lab can build and serve from its registry mirror. */
export const REGISTRY_IMAGES = ['nginx'];
const NODE = ['address', 'config', 'memory', 'cpus', 'drive', 'ports'];
const DEFAULTS = ['memory', 'cpus', 'drive'];
const STEP_KINDS = ['run', 'http', 'partition', 'heal', ...NODE_ACTIONS];
const STEP = ['name', 'note', 'checkpoint', 'on', 'expect', 'until', 'timeout', 'capture', ...STEP_KINDS];
const HTTP = ['url', 'from', 'status', 'body'];
const EXPECT = ['exit', 'stdout', 'stderr', 'table'];
const TABLE = ['where', 'count', 'history'];
const MATCH = ['contains', 'matches', 'equals', 'times'];
const DRIVES: DriveKind[] = ['config-2', 'cidata'];

/** The scenario file of a path: the file itself, or scenario.yaml inside a scenario folder. */
export function scenarioFile(path: string): string {
  const p = resolve(path);
  if (existsSync(p) && statSync(p).isDirectory()) {
    const f = join(p, 'scenario.yaml');
    if (!existsSync(f)) throw new LabError(`${relative(process.cwd(), p) || p} is a folder without a scenario.yaml`, { fix: 'name a scenario folder (e.g. scenarios/etcd-discovery) or its scenario.yaml' });
    return f;
  }
  if (!existsSync(p)) throw new LabError(`no scenario at ${path}`, { fix: 'give a scenario folder such as scenarios/etcd-discovery' });
  return p;
}

/** Reads and checks a scenario; throws FileProblems naming every problem's line and fix. */
export function loadScenario(path: string): Plan {
  const file = scenarioFile(path);
  const src = new YamlSource(relative(process.cwd(), file) || file, readFileSync(file, 'utf8'));
  src.throwIfProblems();
  const top = src.map(src.root, 'the scenario', TOP);
  const get = (k: string) => top.get(k)?.value;
  const need = (k: string) => {
    if (!top.has(k)) src.problem(src.root, `the scenario has no "${k}"`, `add a top-level "${k}:"`);
  };
  ['name', 'nodes', 'steps'].forEach(need);

  const name = top.has('name') ? src.string(get('name'), '"name"') ?? '' : '';
  const description = top.has('description') ? src.string(get('description'), '"description"') ?? '' : '';
  let image = 'labos';
  let imageLine: number | undefined;
  const catalog = loadCatalog();
  if (top.has('image')) {
    image = src.string(get('image'), '"image"') ?? image;
    imageLine = src.at(get('image')).line;
    const p = imageNameProblem(image, catalog);
    if (p) src.problem(get('image'), p.message, p.fix);
  }

  let subnet = '192.168.0.0/24';
  if (top.has('network')) {
    const net = src.map(get('network'), '"network"', ['subnet']);
    if (net.has('subnet')) subnet = src.string(net.get('subnet')!.value, 'network.subnet') ?? subnet;
  }
  let parsedSubnet = { base: 0, prefix: 24 };
  try {
    parsedSubnet = parseSubnet(subnet);
  } catch (e) {
    src.problem(get('network'), (e as Error).message, 'write it as ADDRESS/PREFIX, e.g. 192.168.0.0/24');
  }

  let discovery: Plan['discovery'];
  if (top.has('discovery')) {
    const d = src.map(get('discovery'), '"discovery"', ['size']);
    discovery = { size: d.has('size') ? src.int(d.get('size')!.value, 'discovery.size', 1) ?? 3 : 3 };
  }

  const requires: string[] = [];
  if (top.has('requires')) {
    for (const item of src.seq(get('requires'), '"requires"')) {
      const a = src.string(item, 'an artifact name') ?? '';
      if (a && !ARTIFACTS[a]) src.problem(item, `unknown artifact "${a}"`, `known: ${Object.keys(ARTIFACTS).join(', ')}`);
      else if (a) requires.push(a);
    }
  }
  let registry: Plan['registry'];
  if (top.has('registry')) {
    const r = src.map(get('registry'), '"registry"', ['images']);
    const images: string[] = [];
    if (r.has('images')) {
      for (const item of src.seq(r.get('images')!.value, 'registry.images')) {
        const img = src.string(item, 'an image name') ?? '';
        if (img && !REGISTRY_IMAGES.includes(img)) src.problem(item, `the lab cannot serve image "${img}"`, `use one of: ${REGISTRY_IMAGES.join(', ')}`);
        else if (img) images.push(img);
      }
    }
    registry = { images };
  }

  const defaults = { memoryMb: 1024, cpus: 2, drive: 'cidata' as DriveKind };
  if (top.has('defaults')) readMachine(src, src.map(get('defaults'), '"defaults"', DEFAULTS), defaults, 'defaults');

  let bootTimeoutMs = 15 * 60_000;
  let scenarioTimeoutMs: number | undefined;
  let stepTimeoutMs = 2 * 60_000;
  if (top.has('timeouts')) {
    const t = src.map(get('timeouts'), '"timeouts"', ['boot', 'step', 'scenario']);
    if (t.has('scenario')) scenarioTimeoutMs = src.duration(t.get('scenario')!.value, 'timeouts.scenario');
    if (t.has('boot')) bootTimeoutMs = src.duration(t.get('boot')!.value, 'timeouts.boot') ?? bootTimeoutMs;
    if (t.has('step')) stepTimeoutMs = src.duration(t.get('step')!.value, 'timeouts.step') ?? stepTimeoutMs;
  }

  const nodes: NodePlan[] = [];
  if (top.has('nodes')) {
    const entries = src.entries(get('nodes'), '"nodes"');
    if (entries.length === 0) src.problem(get('nodes'), 'the scenario has no nodes', 'add at least one node under "nodes:"');
    for (const e of entries) {
      if (!/^[a-z][a-z0-9-]{0,30}$/.test(e.name)) src.problem(e.key, `node name "${e.name}" is not a valid host name`, 'use lower-case letters, digits and dashes, starting with a letter');
      const n = src.map(e.value, `node "${e.name}"`, NODE);
      const m = { ...defaults };
      readMachine(src, n, m, `nodes.${e.name}`);
      let address = '';
      if (!n.has('address')) src.problem(e.key, `node "${e.name}" has no address`, `give it "address:" inside ${subnet}`);
      else {
        address = src.string(n.get('address')!.value, `nodes.${e.name}.address`) ?? '';
        if (address && !inSubnet(address, parsedSubnet)) src.problem(n.get('address')!.value, `address ${address} of node "${e.name}" is not a host address inside ${subnet}`, 'pick a free address in the lab subnet');
        const dup = nodes.find((o) => o.address === address);
        if (dup) src.problem(n.get('address')!.value, `address ${address} is already used by node "${dup.name}"`, 'give every node its own address');
      }
      let configFile = '';
      let config = '';
      if (!n.has('config')) src.problem(e.key, `node "${e.name}" has no config`, 'name its cloud-config file, relative to the scenario file: "config: cloud-config.yaml"');
      else {
        const rel = src.string(n.get('config')!.value, `nodes.${e.name}.config`) ?? '';
        configFile = resolve(dirname(file), rel);
        if (!existsSync(configFile)) src.problem(n.get('config')!.value, `config file ${rel} of node "${e.name}" does not exist (looked for ${configFile})`, 'create it or fix the path (relative to the scenario file)');
        else config = readFileSync(configFile, 'utf8');
      }
      const ports = n.has('ports') ? src.seq(n.get('ports')!.value, `nodes.${e.name}.ports`).map((p) => src.int(p, 'a port', 1) ?? 0).filter((p) => p > 0 && p !== 22) : [];
      nodes.push({ name: e.name, index: nodes.length, address, configFile, config, ports, ...m });
    }
  }

  const nodeNames = nodes.map((n) => n.name);
  const known = knownVariables(nodeNames, !!discovery, !!registry, nodes.flatMap((n) => n.ports.map((p) => `nodes.${n.name}.ports.${p}`)));
  const linted = new Set<string>();
  for (const n of nodes) {
    if (!n.config || linted.has(n.configFile)) continue;
    linted.add(n.configFile);
    const sample = Object.fromEntries(known.configList.map((v) => [v, v.endsWith('address') ? '192.0.2.1' : v.includes('url') || v.includes('endpoint') ? 'http://10.0.2.100:2379/x' : 'x']));
    src.problems.push(...lintNodeConfig(n.configFile, n.config, sample, catalog.get(image)));
    const rel = relative(process.cwd(), n.configFile);
    for (const u of unknownNames(n.config, (v) => known.config(v))) {
      src.problems.push({ line: u.line, column: 1, message: `${rel}: undefined variable {{${u.name}}}`, fix: `known in node configs: ${known.configList.join(', ')}` });
    }
  }

  const steps: Step[] = [];
  if (top.has('steps')) {
    const items = src.seq(get('steps'), '"steps"');
    const captured = new Set<string>();
    const checkpoints = new Set<string>();
    items.forEach((item, index) => {
      const s = readStep(src, item, index, nodeNames, stepTimeoutMs, (v) => known.step(v) || captured.has(v));
      if (s?.kind === 'run') s.capture.forEach((c) => captured.add(c.name));
      if (s) steps.push(s);
      const cp = isMap(item) ? (item.get('checkpoint', true) as Node | undefined) : undefined;
      if (s && cp !== undefined) {
        const name = src.string(cp, 'checkpoint') ?? '';
        if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) src.problem(cp, `checkpoint name "${name}" is not a simple name`, 'use lower-case letters, digits and dashes, e.g. checkpoint: cluster-healthy');
        else if (checkpoints.has(name)) src.problem(cp, `checkpoint "${name}" is named twice`, 'give each checkpoint its own name');
        else if (index === items.length - 1) src.problem(cp, `checkpoint "${name}" is on the last step, so no step would start from it`, 'put it on an earlier step');
        else {
          checkpoints.add(name);
          s.checkpoint = name;
        }
      }
    });
    if (items.length === 0) src.problem(get('steps'), 'the scenario has no steps', 'add steps under "steps:"');
  }

  src.throwIfProblems();
  return { file, name, description, image, imageLine, subnet, prefix: parsedSubnet.prefix, discovery, requires, registry, nodes, steps, bootTimeoutMs, scenarioTimeoutMs };
}

function readMachine(src: YamlSource, m: Map<string, { value: Node | null }>, out: { memoryMb: number; cpus: number; drive: DriveKind }, where: string): void {
  if (m.has('memory')) out.memoryMb = src.int(m.get('memory')!.value, `${where}.memory (MiB)`, 256) ?? out.memoryMb;
  if (m.has('cpus')) out.cpus = src.int(m.get('cpus')!.value, `${where}.cpus`, 1) ?? out.cpus;
  if (m.has('drive')) {
    const d = src.string(m.get('drive')!.value, `${where}.drive`);
    if (d && !DRIVES.includes(d as DriveKind)) src.problem(m.get('drive')!.value, `unknown config drive "${d}"`, `use one of: ${DRIVES.join(', ')}`);
    else if (d) out.drive = d as DriveKind;
  }
}

/** Variables the lab defines: for node configs, and for step commands and expectations. */
export function knownVariables(nodes: string[], discovery: boolean, registry = false, ports: string[] = []) {
  const common = [...ports, ...(discovery ? ['discovery.url', 'discovery.endpoint'] : []), ...(registry ? ['registry.url', 'registry.host'] : []), ...nodes.flatMap((n) => [`nodes.${n}.address`, `nodes.${n}.name`])];
  const configList = ['node.name', 'node.address', 'node.prefix', 'ssh_public_key', ...common];
  return {
    configList,
    config: (v: string) => configList.includes(v),
    step: (v: string) => common.includes(v) || v === 'run.attempt',
    stepList: common,
  };
}

function readStep(src: YamlSource, item: Node, index: number, nodes: string[], stepTimeoutMs: number, knownVar: (v: string) => boolean): Step | undefined {
  const s = src.map(item, `step ${index + 1}`, STEP);
  const line = src.at(item).line;
  const name = s.has('name') ? src.string(s.get('name')!.value, 'step name') ?? '' : '';
  if (!s.has('name')) src.problem(item, `step ${index + 1} has no name`, 'give every step a "name:" so reports can refer to it');
  const kinds = STEP_KINDS.filter((k) => s.has(k));
  if (kinds.length !== 1) {
    src.problem(item, `step ${index + 1} (${name || 'unnamed'}) must have exactly one of ${STEP_KINDS.join(', ')}`, kinds.length ? `split it into one step per action (${kinds.join(', ')})` : 'say what it does, e.g. "run: etcdctl cluster-health" with "on: node00"');
    return undefined;
  }
  const note = s.has('note') ? src.string(s.get('note')!.value, 'note') : undefined;
  const nodeRef = (n: Node | null, what: string): string => {
    const v = src.string(n, what) ?? '';
    const placeholder = v.match(/^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/);
    if (placeholder) {
      if (!knownVar(placeholder[1])) src.problem(n, `step "${name}" uses undefined variable {{${placeholder[1]}}}`, 'capture it in an earlier step, or fix the name');
    } else if (v && !nodes.includes(v)) src.problem(n, `step "${name}" names node "${v}", which the scenario does not define`, `use one of: ${nodes.join(', ')}`);
    return v;
  };
  const checkVars = (n: Node | null, text: string) => {
    for (const u of unknownNames(text, knownVar)) src.problem(n, `step "${name}" uses undefined variable {{${u.name}}}`, 'define it (e.g. add "discovery:" for discovery.url) or fix the name');
  };
  const kind = kinds[0];
  const notFor = (keys: string[]) => {
    for (const k of keys) if (s.has(k)) src.problem(s.get(k)!.key, `"${k}" does not apply to a ${kind} step`);
  };
  if ((NODE_ACTIONS as readonly string[]).includes(kind)) {
    notFor(['on', 'expect', 'until', 'timeout', 'capture']);
    return { kind: kind as NodeAction, index, name, line, note, node: nodeRef(s.get(kind)!.value, kind) };
  }
  if (kind === 'heal') {
    notFor(['on', 'expect', 'until', 'timeout', 'capture']);
    return { kind, index, name, line, note, node: 'lab' };
  }
  if (kind === 'partition') {
    notFor(['on', 'expect', 'until', 'timeout', 'capture']);
    const groups = src.seq(s.get('partition')!.value, 'partition').map((g) => src.seq(g, 'a partition group').map((n) => nodeRef(n, 'a partition member')));
    const all = groups.flat();
    if (groups.length < 2) src.problem(s.get('partition')!.value, 'a partition needs at least two groups of nodes', 'e.g. partition: [[node00], [node01, node02]]');
    if (new Set(all).size !== all.length) src.problem(s.get('partition')!.value, 'a node stands in two partition groups', 'list each node once');
    return { kind, index, name, line, note, node: 'lab', groups };
  }
  const until = readUntil(src, s, name, stepTimeoutMs);
  const timeoutMs = s.has('timeout') ? src.duration(s.get('timeout')!.value, 'timeout') ?? stepTimeoutMs : stepTimeoutMs;
  if (kind === 'http') {
    notFor(['on', 'expect', 'capture']);
    const h = src.map(s.get('http')!.value, `the http of step "${name}"`, HTTP);
    const url = h.has('url') ? src.string(h.get('url')!.value, 'http.url') ?? '' : '';
    if (!h.has('url')) src.problem(s.get('http')!.value, `step "${name}" needs http.url`, 'e.g. http: { url: "http://{{nodes.worker0.address}}/", from: manager0 }');
    checkVars(h.get('url')?.value ?? null, url);
    const fromValue = h.get('from')?.value ?? null;
    const from = !h.has('from') ? 'host' : isScalar(fromValue) && fromValue.value === 'host' ? 'host' : nodeRef(fromValue, 'http.from');
    const status = h.has('status') ? src.int(h.get('status')!.value, 'http.status', 100) ?? 200 : 200;
    const body: Matcher[] = [];
    if (h.has('body')) {
      const v = h.get('body')!.value;
      for (const m of isSeq(v) ? src.seq(v, 'body') : [v]) {
        const matcher = readMatcher(src, m, `the body of step "${name}"`);
        if (matcher) body.push(matcher);
      }
    }
    return { kind, index, name, line, note, node: from, url, status, body, until, timeoutMs };
  }
  const onValue = s.get('on')?.value ?? null;
  const targets = !s.has('on') ? [] : isSeq(onValue) ? src.seq(onValue, 'on').map((n) => nodeRef(n, 'on')) : [nodeRef(onValue, 'on')];
  if (!s.has('on')) src.problem(item, `step "${name}" runs a command but does not say on which node`, `add "on: ${nodes[0] ?? 'NODE'}" (or a list of nodes)`);
  const node = targets.join(',');
  const command = src.string(s.get('run')!.value, 'run') ?? '';
  checkVars(s.get('run')!.value, command);
  const expect: Expectation = { exit: 0, stdout: [], stderr: [], table: [] };
  if (s.has('expect')) {
    const e = src.map(s.get('expect')!.value, `the expect of step "${name}"`, EXPECT);
    if (e.has('exit')) {
      const v = e.get('exit')!.value;
      expect.exit = isScalar(v) && v.value === 'any' ? undefined : src.int(v, 'expect.exit (a number, or "any")');
    }
    if (e.has('table')) {
      const v = e.get('table')!.value;
      for (const t of isSeq(v) ? src.seq(v, 'table') : [v]) {
        const tc = readTableCheck(src, t, `a table check of step "${name}"`);
        if (tc) {
          checkVars(t, JSON.stringify(tc));
          expect.table.push(tc);
        }
      }
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      if (!e.has(stream)) continue;
      const v = e.get(stream)!.value;
      const list = isSeq(v) ? src.seq(v, stream) : [v];
      for (const m of list) {
        const matcher = readMatcher(src, m, `${stream} of step "${name}"`);
        if (matcher) {
          checkVars(m, JSON.stringify(matcher));
          expect[stream].push(matcher);
        }
      }
    }
  }
  const capture: Capture[] = [];
  if (s.has('capture')) {
    for (const c of src.entries(s.get('capture')!.value, `the capture of step "${name}"`)) {
      if (!/^[a-z][a-z0-9_]*$/.test(c.name)) src.problem(c.key, `capture name "${c.name}" must be lower-case letters, digits and _`);
      const m = src.map(c.value, `capture "${c.name}"`, ['stdout', 'table']);
      if (m.has('stdout')) {
        const re = src.string(m.get('stdout')!.value, `capture ${c.name}.stdout`) ?? '';
        try {
          if (new RegExp(re).source && !/\((?!\?)/.test(re)) src.problem(m.get('stdout')!.value, `capture "${c.name}" needs a (group) in its regex: the group's text is what is captured`);
        } catch (err) {
          src.problem(m.get('stdout')!.value, `bad regular expression: ${(err as Error).message}`);
        }
        capture.push({ name: c.name, stdout: re });
      } else if (m.has('table')) {
        const t = src.map(m.get('table')!.value, `capture "${c.name}".table`, ['where', 'column']);
        const where = t.has('where') ? readWhere(src, t.get('where')!.value) : {};
        const column = t.has('column') ? src.string(t.get('column')!.value, 'column') ?? '' : '';
        if (!t.has('column')) src.problem(m.get('table')!.key, `capture "${c.name}" from a table needs "column:"`, 'name the column whose value to take, e.g. column: NODE');
        capture.push({ name: c.name, table: { where, column } });
      } else src.problem(c.key, `capture "${c.name}" needs "stdout: REGEX" or "table: {where, column}"`);
    }
  }
  return { kind: 'run', index, name, line, note, node, nodes: targets, command, expect, until, timeoutMs, capture };
}

function readUntil(src: YamlSource, s: Map<string, { key: Node; value: Node | null }>, name: string, stepTimeoutMs: number): RunStep['until'] {
  if (!s.has('until')) return undefined;
  const u = src.map(s.get('until')!.value, `the until of step "${name}"`, ['timeout', 'interval']);
  return {
    timeoutMs: u.has('timeout') ? src.duration(u.get('timeout')!.value, 'until.timeout') ?? stepTimeoutMs : stepTimeoutMs,
    intervalMs: u.has('interval') ? src.duration(u.get('interval')!.value, 'until.interval') ?? 5000 : 5000,
  };
}

function readWhere(src: YamlSource, node: Node | null): Record<string, string> {
  const where: Record<string, string> = {};
  for (const w of src.entries(node, 'where')) where[w.name] = src.string(w.value, `where.${w.name}`) ?? '';
  return where;
}

function readTableCheck(src: YamlSource, node: Node | null, what: string): TableCheck | undefined {
  const m = src.map(node, what, TABLE);
  if (!m.has('where')) {
    src.problem(node, `${what} needs "where:" (column: value pairs)`);
    return undefined;
  }
  const tc: TableCheck = { where: readWhere(src, m.get('where')!.value) };
  if (m.has('count')) tc.count = src.int(m.get('count')!.value, 'count');
  if (m.has('history')) tc.history = isScalar(m.get('history')!.value) && m.get('history')!.value!.toJSON() === true;
  return tc;
}

function readMatcher(src: YamlSource, node: Node | null, what: string): Matcher | undefined {
  if (isScalar(node) && typeof node.value === 'string') return { contains: node.value };
  const m = src.map(node, `a matcher in ${what}`, MATCH);
  const out: Matcher = {};
  for (const k of ['contains', 'matches', 'equals'] as const) if (m.has(k)) out[k] = src.string(m.get(k)!.value, k);
  const kinds = (['contains', 'matches', 'equals'] as const).filter((k) => m.has(k));
  if (kinds.length !== 1) {
    src.problem(node, `a matcher in ${what} needs exactly one of contains, matches, equals`);
    return undefined;
  }
  if (out.matches !== undefined) {
    try {
      new RegExp(out.matches, 'm');
    } catch (e) {
      src.problem(m.get('matches')!.value, `bad regular expression: ${(e as Error).message}`, 'fix the pattern (JavaScript syntax; escape backslashes in double-quoted YAML)');
    }
  }
  if (m.has('times')) out.times = src.int(m.get('times')!.value, 'times');
  return out;
}

export { FileProblems };
