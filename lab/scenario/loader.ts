import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Node } from 'yaml';
import { YamlSource, FileProblems } from './yamlsource.js';
import { LabError } from '../util/errors.js';
import { shownPath } from '../util/paths.js';
import { unknownNames } from '../util/template.js';
import { inSubnet, parseSubnet } from '../util/net.js';
import { BOUNDS, KEYS } from './schema.js';
import { readSteps } from './steps.js';
import { knownVariables } from './variables.js';
import { checkStepContainers, readRancher } from './rancher.js';
import type { DriveKind, Scenario, ScenarioNode } from './model.js';

/** Container images the lab can build and serve from its registry mirror. */
export const REGISTRY_IMAGES = ['nginx'];
const DRIVES: DriveKind[] = ['config-2', 'cidata'];
/** A node config larger than this is not a cloud-config anyone meant. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadOptions {
  /** Folders besides the scenario's own that node configs may come from (--allow-config-dir). */
  allowConfigDirs?: string[];
}

/** The scenario file of a path: the file itself, or scenario.yaml inside a scenario folder. */
export function scenarioFile(path: string): string {
  const p = resolve(path);
  if (existsSync(p) && statSync(p).isDirectory()) {
    const f = join(p, 'scenario.yaml');
    if (!existsSync(f)) throw new LabError(`${shownPath(p)} is a folder without a scenario.yaml`, { fix: 'name a scenario folder (e.g. scenarios/etcd-discovery) or its scenario.yaml' });
    return f;
  }
  if (!existsSync(p)) throw new LabError(`no scenario at ${path}`, { fix: 'give a scenario folder such as scenarios/etcd-discovery' });
  if (!statSync(p).isFile()) throw new LabError(`${path} is not a regular file`, { fix: 'give a scenario folder or its scenario.yaml' });
  return p;
}

/** Reads and checks a scenario; throws FileProblems naming every problem's line and fix. */
export function loadScenario(path: string, opts: LoadOptions = {}): Scenario {
  const file = scenarioFile(path);
  const src = new YamlSource(shownPath(file), readCapped(file, 'the scenario file'));
  src.throwIfProblems();
  const top = src.map(src.root, 'the scenario', KEYS.top);
  const get = (k: string) => top.get(k)?.value ?? null;
  for (const k of ['name', 'nodes', 'steps']) if (!top.has(k)) src.problem(src.root, `the scenario has no "${k}"`, `add a top-level "${k}:"`);

  const name = top.has('name') ? readName(src, get('name')) : '';
  const description = top.has('description') ? src.string(get('description'), '"description"') ?? '' : '';
  const image = top.has('image') ? src.string(get('image'), '"image"') ?? 'labos' : 'labos';
  const imageAt = top.has('image') ? src.at(get('image')) : undefined;
  const { subnet, parsed } = readNetwork(src, top.has('network') ? get('network') : undefined);
  const discovery = top.has('discovery') ? { size: readSize(src, get('discovery')) } : undefined;
  const { requires, requiresAt } = readRequires(src, top.has('requires') ? get('requires') : undefined);
  const registry = top.has('registry') ? readRegistry(src, get('registry')) : undefined;
  const rancher = top.has('rancher') ? readRancher(src, get('rancher')) : undefined;
  const defaults = { memoryMb: 1024, cpus: 2, drive: 'cidata' as DriveKind };
  if (top.has('defaults')) readMachine(src, src.map(get('defaults'), '"defaults"', KEYS.defaults), defaults, 'defaults');
  const timeouts = readTimeouts(src, top.has('timeouts') ? get('timeouts') : undefined);
  const configDirs = [dirname(file), ...(opts.allowConfigDirs ?? []).map((d) => resolve(d))];
  const nodes = top.has('nodes') ? readNodes(src, get('nodes'), defaults, subnet, parsed, configDirs) : [];

  const known = knownVariables(nodes.map((n) => n.name), !!discovery, !!registry, nodes.flatMap((n) => n.ports.map((p) => `nodes.${n.name}.ports.${p}`)), !!rancher);
  checkConfigVariables(src, nodes, known);
  const steps = top.has('steps') ? readSteps(src, get('steps'), nodes, timeouts.stepMs, known, top.get('steps')!.key) : [];
  checkStepContainers(src, steps, !!registry, top.get('steps')?.key ?? null);
  src.throwIfProblems();
  return { file, name, description, image, imageAt, subnet, prefix: parsed.prefix, discovery, requires, requiresAt, registry, rancher, nodes, steps, bootTimeoutMs: timeouts.bootMs, scenarioTimeoutMs: timeouts.scenarioMs };
}

/** A name goes into folder names, report paths and QEMU options: a safe charset and a length bound. */
function readName(src: YamlSource, node: Node | null): string {
  const name = src.string(node, '"name"') ?? '';
  if (!name) src.problem(node, 'the scenario\'s name is empty', 'give it a simple name, e.g. name: etcd-discovery');
  else if (!new RegExp(`^[a-z0-9][a-z0-9._-]{0,${BOUNDS.nameLength - 1}}$`).test(name)) {
    src.problem(node, `scenario name "${name.slice(0, 80)}" is not a simple name`, `use lower-case letters, digits, ".", "_" and "-" (starting with a letter or digit, at most ${BOUNDS.nameLength} characters), e.g. name: etcd-discovery`);
    return '';
  }
  return name;
}

function readNetwork(src: YamlSource, node: Node | null | undefined): { subnet: string; parsed: { base: number; prefix: number } } {
  let subnet = '192.168.0.0/24';
  if (node !== undefined) {
    const net = src.map(node, '"network"', KEYS.network);
    if (net.has('subnet')) subnet = src.string(net.get('subnet')!.value, 'network.subnet') ?? subnet;
  }
  try {
    return { subnet, parsed: parseSubnet(subnet) };
  } catch (e) {
    src.problem(node, (e as Error).message, 'write it as ADDRESS/PREFIX with a prefix of 8 to 30, e.g. 192.168.0.0/24');
    return { subnet, parsed: { base: 0, prefix: 24 } };
  }
}

function readSize(src: YamlSource, node: Node | null): number {
  const d = src.map(node, '"discovery"', KEYS.discovery);
  return d.has('size') ? src.int(d.get('size')!.value, 'discovery.size', 1, 64) ?? 3 : 3;
}

function readRequires(src: YamlSource, node: Node | null | undefined): { requires: string[]; requiresAt: Scenario['requiresAt'] } {
  const requires: string[] = [];
  const requiresAt: Scenario['requiresAt'] = [];
  for (const item of node === undefined ? [] : src.seq(node, '"requires"')) {
    const a = src.string(item, 'an artifact name');
    if (a) {
      requires.push(a);
      requiresAt.push(src.at(item));
    }
  }
  return { requires, requiresAt };
}

function readRegistry(src: YamlSource, node: Node | null): { images: string[] } {
  const r = src.map(node, '"registry"', KEYS.registry);
  const images: string[] = [];
  for (const item of r.has('images') ? src.seq(r.get('images')!.value, 'registry.images') : []) {
    const img = src.string(item, 'an image name') ?? '';
    if (img && !REGISTRY_IMAGES.includes(img)) src.problem(item, `the lab cannot serve image "${img}"`, `use one of: ${REGISTRY_IMAGES.join(', ')}`);
    else if (img) images.push(img);
  }
  return { images };
}

function readTimeouts(src: YamlSource, node: Node | null | undefined): { bootMs: number; stepMs: number; scenarioMs?: number } {
  const out: { bootMs: number; stepMs: number; scenarioMs?: number } = { bootMs: 15 * 60_000, stepMs: 2 * 60_000 };
  if (node === undefined) return out;
  const t = src.map(node, '"timeouts"', KEYS.timeouts);
  if (t.has('scenario')) out.scenarioMs = src.duration(t.get('scenario')!.value, 'timeouts.scenario');
  if (t.has('boot')) out.bootMs = src.duration(t.get('boot')!.value, 'timeouts.boot') ?? out.bootMs;
  if (t.has('step')) out.stepMs = src.duration(t.get('step')!.value, 'timeouts.step') ?? out.stepMs;
  return out;
}

function readMachine(src: YamlSource, m: Map<string, { value: Node | null }>, out: { memoryMb: number; cpus: number; drive: DriveKind }, where: string): void {
  if (m.has('memory')) out.memoryMb = src.int(m.get('memory')!.value, `${where}.memory (MiB)`, BOUNDS.memory.min, BOUNDS.memory.max) ?? out.memoryMb;
  if (m.has('cpus')) out.cpus = src.int(m.get('cpus')!.value, `${where}.cpus`, BOUNDS.cpus.min, BOUNDS.cpus.max) ?? out.cpus;
  if (m.has('drive')) {
    const d = src.string(m.get('drive')!.value, `${where}.drive`);
    if (d && !DRIVES.includes(d as DriveKind)) src.problem(m.get('drive')!.value, `unknown config drive "${d}"`, `use one of: ${DRIVES.join(', ')}`);
    else if (d) out.drive = d as DriveKind;
  }
}

function readNodes(src: YamlSource, node: Node | null, defaults: { memoryMb: number; cpus: number; drive: DriveKind }, subnet: string, parsed: { base: number; prefix: number }, configDirs: string[]): ScenarioNode[] {
  const nodes: ScenarioNode[] = [];
  const entries = src.entries(node, '"nodes"');
  if (entries.length === 0) src.problem(node, 'the scenario has no nodes', 'add at least one node under "nodes:"');
  for (const e of entries) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(e.name)) src.problem(e.key, `node name "${e.name.slice(0, 80)}" is not a valid host name`, 'use lower-case letters, digits and dashes, starting with a letter (at most 31 characters)');
    const n = src.map(e.value, `node "${e.name}"`, KEYS.node);
    const m = { ...defaults };
    readMachine(src, n, m, `nodes.${e.name}`);
    let address = '';
    if (!n.has('address')) src.problem(e.key, `node "${e.name}" has no address`, `give it "address:" inside ${subnet}`);
    else {
      address = src.string(n.get('address')!.value, `nodes.${e.name}.address`) ?? '';
      if (address && !inSubnet(address, parsed)) src.problem(n.get('address')!.value, `address ${address} of node "${e.name}" is not a host address inside ${subnet}`, 'pick a free address in the lab subnet');
      const dup = nodes.find((o) => o.address === address);
      if (dup) src.problem(n.get('address')!.value, `address ${address} is already used by node "${dup.name}"`, 'give every node its own address');
    }
    const { configFile, config } = n.has('config') ? readConfig(src, n.get('config')!.value, e.name, configDirs) : { configFile: '', config: '' };
    if (!n.has('config')) src.problem(e.key, `node "${e.name}" has no config`, 'name its cloud-config file, relative to the scenario file: "config: cloud-config.yaml"');
    const ports = n.has('ports') ? readPorts(src, n.get('ports')!.value, e.name) : [];
    nodes.push({ name: e.name, index: nodes.length, address, configFile, config, configAt: n.has('config') ? src.at(n.get('config')!.value) : undefined, ports, ...m });
  }
  return nodes;
}

function readPorts(src: YamlSource, node: Node | null, name: string): number[] {
  const ports = src.seq(node, `nodes.${name}.ports`).map((p) => src.int(p, 'a port', BOUNDS.port.min, BOUNDS.port.max) ?? 0);
  return [...new Set(ports.filter((p) => p > 0 && p !== 22))];
}

/**
 * A node's config: a regular file inside the scenario's folder (or an allowed one), at most
 * MAX_CONFIG_BYTES, not empty. Its text is never echoed into a problem: a file that is not a
 * config is only said to be one.
 */
function readConfig(src: YamlSource, node: Node | null, nodeName: string, dirs: string[]): { configFile: string; config: string } {
  const rel = src.string(node, `nodes.${nodeName}.config`) ?? '';
  const configFile = resolve(dirs[0], rel);
  const problem = (message: string, fix: string) => {
    src.problem(node, message, fix);
    return { configFile, config: '' };
  };
  if (!rel) return { configFile, config: '' };
  if (!existsSync(configFile)) return problem(`config file ${rel} of node "${nodeName}" does not exist (looked for ${configFile})`, 'create it or fix the path (relative to the scenario file)');
  const real = realpathSync(configFile);
  if (!dirs.some((d) => real.startsWith(realpathSync(d) + sep))) return problem(`config file ${rel} of node "${nodeName}" is outside the scenario's folder`, 'put the config next to the scenario file (or pass --allow-config-dir DIR for a shared folder)');
  const st = statSync(real);
  if (!st.isFile()) return problem(`config file ${rel} of node "${nodeName}" is not a regular file`, 'name a #cloud-config or Ignition JSON file');
  if (st.size === 0) return problem(`config file ${rel} of node "${nodeName}" is empty`, 'write a #cloud-config (or Ignition JSON) into it');
  if (st.size > MAX_CONFIG_BYTES) return problem(`config file ${rel} of node "${nodeName}" has ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} a node config may have`, 'keep node configs small; serve large files from the lab instead');
  return { configFile, config: readCapped(real, `config file ${rel}`).replace(/^\uFEFF/, '') };
}

/** Reads at most MAX_CONFIG_BYTES (+1 to notice more) from a regular file. */
function readCapped(file: string, what: string): string {
  const fd = openSync(file, 'r');
  try {
    if (!fstatSync(fd).isFile()) throw new LabError(`${what} (${file}) is not a regular file`, { fix: 'name a regular file' });
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_CONFIG_BYTES) throw new LabError(`${what} (${file}) is larger than ${MAX_CONFIG_BYTES} bytes`, { fix: 'keep scenario files and node configs under 1 MiB' });
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** An undefined {{variable}} in a node config is reported at its line in that config file. */
function checkConfigVariables(src: YamlSource, nodes: ScenarioNode[], known: ReturnType<typeof knownVariables>): void {
  const seen = new Set<string>();
  for (const n of nodes) {
    if (!n.config || seen.has(n.configFile)) continue;
    seen.add(n.configFile);
    const rel = shownPath(n.configFile);
    for (const u of unknownNames(n.config, (v) => known.config(v))) {
      src.problems.push({ file: rel, line: u.line, column: u.column, message: `undefined variable {{${u.name}}}`, fix: `known in node configs: ${known.configList.join(', ')}` });
    }
  }
}

export { FileProblems };
