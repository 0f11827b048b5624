import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { YamlSource } from './yamlsource.js';
import { unknownNames } from '../util/template.js';
import { BOUNDS, KEYS, STEP_KINDS } from './schema.js';
import type { KnownVariables } from './variables.js';
import { readStepRequires } from './rancher.js';
import { NODE_ACTIONS, type Capture, type Expectation, type Matcher, type NodeAction, type RunStep, type ScenarioNode, type Step, type TableCheck } from './model.js';

type Entries = Map<string, { key: Node; value: Node | null }>;

/** What reading one step needs: the file, the step's mapping, and how to check names in it. */
interface StepContext {
  src: YamlSource;
  s: Entries;
  item: Node;
  index: number;
  name: string;
  line: number;
  note?: string;
  stepTimeoutMs: number;
  nodes: ScenarioNode[];
  knownVar: (v: string) => boolean;
}

/** The steps of a scenario, with checkpoints checked (simple names, each once, not on the last step). */
export function readSteps(src: YamlSource, node: Node | null, nodes: ScenarioNode[], stepTimeoutMs: number, known: KnownVariables, key: Node): Step[] {
  const steps: Step[] = [];
  const items = src.seq(node, '"steps"');
  if (items.length === 0) src.problem(node ?? key, 'the scenario has no steps', 'add steps under "steps:"');
  const captured = new Set<string>();
  const checkpoints = new Set<string>();
  items.forEach((item, index) => {
    const s = readStep(src, item, index, nodes, stepTimeoutMs, (v) => known.step(v) || captured.has(v));
    if (!s) return;
    if (s.kind === 'run') s.capture.forEach((c) => captured.add(c.name));
    steps.push(s);
    const cp = isMap(item) ? (item.get('checkpoint', true) as Node | undefined) : undefined;
    if (cp === undefined) return;
    const name = src.string(cp, 'checkpoint') ?? '';
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) src.problem(cp, `checkpoint name "${name.slice(0, 80)}" is not a simple name`, 'use lower-case letters, digits and dashes, e.g. checkpoint: cluster-healthy');
    else if (checkpoints.has(name)) src.problem(cp, `checkpoint "${name}" is named twice`, 'give each checkpoint its own name');
    else if (index === items.length - 1) src.problem(cp, `checkpoint "${name}" is on the last step, so no step would start from it`, 'put it on an earlier step');
    else {
      checkpoints.add(name);
      s.checkpoint = name;
    }
  });
  return steps;
}

function readStep(src: YamlSource, item: Node, index: number, nodes: ScenarioNode[], stepTimeoutMs: number, knownVar: (v: string) => boolean): Step | undefined {
  const s = src.map(item, `step ${index + 1}`, KEYS.step);
  const name = s.has('name') ? src.string(s.get('name')!.value, 'step name') ?? '' : '';
  if (!s.has('name')) src.problem(item, `step ${index + 1} has no name`, 'give every step a "name:" so reports can refer to it');
  const kinds = STEP_KINDS.filter((k) => s.has(k));
  if (kinds.length !== 1) {
    src.problem(item, `step ${index + 1} (${name || 'unnamed'}) must have exactly one of ${STEP_KINDS.join(', ')}`, kinds.length ? `split it into one step per action (${kinds.join(', ')})` : 'say what it does, e.g. "run: etcdctl cluster-health" with "on: node00"');
    return undefined;
  }
  const note = s.has('note') ? src.string(s.get('note')!.value, 'note') : undefined;
  const ctx: StepContext = { src, s, item, index, name, line: src.at(item).line, note, stepTimeoutMs, nodes, knownVar };
  const kind = kinds[0];
  const step = (NODE_ACTIONS as readonly string[]).includes(kind) || kind === 'heal' || kind === 'partition' ? readFault(ctx, kind) : kind === 'http' ? readHttp(ctx) : readRun(ctx);
  if (s.has('requires')) step.containers = readStepRequires(src, s.get('requires')!.value);
  return step;
}

/** A node named by a step: a node of the scenario, or one {{variable}} captured earlier. */
function nodeRef(ctx: StepContext, n: Node | null, what: string): string {
  const v = ctx.src.string(n, what) ?? '';
  const placeholder = v.match(/^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/);
  if (placeholder) {
    if (!ctx.knownVar(placeholder[1])) ctx.src.problem(n, `step "${ctx.name}" uses undefined variable {{${placeholder[1]}}}`, 'capture it in an earlier step, or fix the name');
  } else if (v && !ctx.nodes.some((x) => x.name === v)) ctx.src.problem(n, `step "${ctx.name}" names node "${v.slice(0, 80)}", which the scenario does not define`, `use one of: ${ctx.nodes.map((x) => x.name).join(', ')}`);
  return v;
}

function checkVars(ctx: StepContext, n: Node | null, text: string): void {
  for (const u of unknownNames(text, ctx.knownVar)) ctx.src.problem(n, `step "${ctx.name}" uses undefined variable {{${u.name}}}`, 'define it (e.g. add "discovery:" for discovery.url) or fix the name');
}

function notFor(ctx: StepContext, kind: string, keys: string[]): void {
  for (const k of keys) if (ctx.s.has(k)) ctx.src.problem(ctx.s.get(k)!.key, `"${k}" does not apply to a ${kind} step`, `remove "${k}" from this step`);
}

function readFault(ctx: StepContext, kind: string): Step {
  const base = { index: ctx.index, name: ctx.name, line: ctx.line, note: ctx.note };
  notFor(ctx, kind, ['on', 'expect', 'until', 'timeout', 'capture']);
  if (kind === 'heal') return { ...base, kind, node: 'lab' };
  if (kind !== 'partition') return { ...base, kind: kind as NodeAction, node: nodeRef(ctx, ctx.s.get(kind)!.value, kind) };
  const v = ctx.s.get('partition')!.value;
  const groups = ctx.src.seq(v, 'partition').map((g) => ctx.src.seq(g, 'a partition group').map((n) => nodeRef(ctx, n, 'a partition member')));
  const all = groups.flat();
  if (groups.length < 2) ctx.src.problem(v, 'a partition needs at least two groups of nodes', 'e.g. partition: [[node00], [node01, node02]]');
  if (new Set(all).size !== all.length) ctx.src.problem(v, 'a node stands in two partition groups', 'list each node once');
  return { ...base, kind: 'partition', node: 'lab', groups };
}

function timing(ctx: StepContext): { until?: RunStep['until']; timeoutMs: number } {
  const { src, s, stepTimeoutMs } = ctx;
  const timeoutMs = s.has('timeout') ? src.duration(s.get('timeout')!.value, 'timeout') ?? stepTimeoutMs : stepTimeoutMs;
  if (!s.has('until')) return { timeoutMs };
  const u = src.map(s.get('until')!.value, `the until of step "${ctx.name}"`, KEYS.until);
  return {
    timeoutMs,
    until: {
      timeoutMs: u.has('timeout') ? src.duration(u.get('timeout')!.value, 'until.timeout') ?? stepTimeoutMs : stepTimeoutMs,
      intervalMs: u.has('interval') ? src.duration(u.get('interval')!.value, 'until.interval', BOUNDS.intervalMs.min, BOUNDS.intervalMs.max) ?? 5000 : 5000,
    },
  };
}

/** An http step from the host may only reach a port the lab publishes: http://{{nodes.NAME.ports.PORT}}/... */
const HOST_URL = /^http:\/\/\{\{\s*nodes\.[a-z][a-z0-9-]*\.ports\.\d+\s*\}\}(\/|$)/;

function readHttp(ctx: StepContext): Step {
  const { src, s, name } = ctx;
  notFor(ctx, 'http', ['on', 'expect', 'capture']);
  const h = src.map(s.get('http')!.value, `the http of step "${name}"`, KEYS.http);
  const url = h.has('url') ? src.string(h.get('url')!.value, 'http.url') ?? '' : '';
  if (!h.has('url')) src.problem(s.get('http')!.value, `step "${name}" needs http.url`, 'e.g. http: { url: "http://{{nodes.worker0.address}}/", from: manager0 }');
  checkVars(ctx, h.get('url')?.value ?? null, url);
  const fromValue = h.get('from')?.value ?? null;
  const from = !h.has('from') || (isScalar(fromValue) && fromValue.value === 'host') ? 'host' : nodeRef(ctx, fromValue, 'http.from');
  if (from === 'host' && url && !HOST_URL.test(url)) {
    src.problem(h.get('url')!.value, `step "${name}" fetches ${url.slice(0, 120)} from the host, which may reach only ports the lab publishes on 127.0.0.1`, 'publish the guest port with the node\'s "ports: [80]" and use url: "http://{{nodes.NAME.ports.80}}/", or fetch from a node with from: NODE');
  }
  const status = h.has('status') ? src.int(h.get('status')!.value, 'http.status', 100, 599) ?? 200 : 200;
  const body = h.has('body') ? readMatchers(ctx, h.get('body')!.value, `the body of step "${name}"`) : [];
  return { kind: 'http', index: ctx.index, name, line: ctx.line, note: ctx.note, node: from, url, status, body, ...timing(ctx) };
}

function readRun(ctx: StepContext): RunStep {
  const { src, s, name, item } = ctx;
  const onValue = s.get('on')?.value ?? null;
  const targets = !s.has('on') ? [] : isSeq(onValue) ? src.seq(onValue, 'on').map((n) => nodeRef(ctx, n, 'on')) : [nodeRef(ctx, onValue, 'on')];
  if (!s.has('on')) src.problem(item, `step "${name}" runs a command but does not say on which node`, `add "on: ${ctx.nodes[0]?.name ?? 'NODE'}" (or a list of nodes)`);
  const command = src.string(s.get('run')!.value, 'run') ?? '';
  checkVars(ctx, s.get('run')!.value, command);
  const expect = s.has('expect') ? readExpect(ctx, s.get('expect')!.value) : { exit: 0, stdout: [], stderr: [], table: [] };
  const capture = s.has('capture') ? readCaptures(ctx, s.get('capture')!.value) : [];
  return { kind: 'run', index: ctx.index, name, line: ctx.line, note: ctx.note, node: targets.join(','), nodes: targets, command, expect, capture, ...timing(ctx) };
}

function readExpect(ctx: StepContext, node: Node | null): Expectation {
  const { src, name } = ctx;
  const e = src.map(node, `the expect of step "${name}"`, KEYS.expect);
  const expect: Expectation = { exit: 0, stdout: [], stderr: [], table: [] };
  if (e.has('exit')) {
    const v = e.get('exit')!.value;
    if (isScalar(v) && v.value === 'any') expect.exit = undefined;
    else if (isScalar(v) && v.value === 'nonzero') expect.exit = 'nonzero';
    else if (isScalar(v) && Number.isInteger(v.value) && (v.value as number) >= 0 && (v.value as number) <= 255) expect.exit = v.value as number;
    else src.problem(v, 'expect.exit must be an exit status (0 to 255), "nonzero" (any failure) or "any"', 'e.g. exit: 0, exit: 1, exit: nonzero');
  }
  if (e.has('table')) {
    const v = e.get('table')!.value;
    for (const t of isSeq(v) ? src.seq(v, 'table') : [v]) {
      const tc = readTableCheck(src, t, `a table check of step "${name}"`);
      if (tc) {
        checkVars(ctx, t, JSON.stringify(tc));
        expect.table.push(tc);
      }
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) if (e.has(stream)) expect[stream] = readMatchers(ctx, e.get(stream)!.value, `${stream} of step "${name}"`);
  return expect;
}

function readMatchers(ctx: StepContext, v: Node | null, what: string): Matcher[] {
  const out: Matcher[] = [];
  for (const m of isSeq(v) ? ctx.src.seq(v, what) : [v]) {
    const matcher = readMatcher(ctx.src, m, what);
    if (matcher) {
      checkVars(ctx, m, JSON.stringify(matcher));
      out.push(matcher);
    }
  }
  return out;
}

function readCaptures(ctx: StepContext, node: Node | null): Capture[] {
  const { src } = ctx;
  const capture: Capture[] = [];
  for (const c of src.entries(node, `the capture of step "${ctx.name}"`)) {
    if (!/^[a-z][a-z0-9_]*$/.test(c.name)) src.problem(c.key, `capture name "${c.name.slice(0, 80)}" must be lower-case letters, digits and _`, 'e.g. join_token');
    const m = src.map(c.value, `capture "${c.name}"`, KEYS.capture);
    if (m.has('stdout')) {
      const re = src.string(m.get('stdout')!.value, `capture ${c.name}.stdout`) ?? '';
      const bad = regexProblem(re);
      if (bad) src.problem(m.get('stdout')!.value, bad, 'fix the pattern (JavaScript syntax; escape backslashes in double-quoted YAML)');
      else if (!/\((?!\?)/.test(re)) src.problem(m.get('stdout')!.value, `capture "${c.name}" needs a (group) in its regex: the group's text is what is captured`, 'put parentheses around the part to capture');
      capture.push({ name: c.name, stdout: re });
    } else if (m.has('table')) {
      const t = src.map(m.get('table')!.value, `capture "${c.name}".table`, KEYS.captureTable);
      const where = t.has('where') ? readWhere(src, t.get('where')!.value) : {};
      const column = t.has('column') ? src.string(t.get('column')!.value, 'column') ?? '' : '';
      if (!t.has('column')) src.problem(m.get('table')!.key, `capture "${c.name}" from a table needs "column:"`, 'name the column whose value to take, e.g. column: NODE');
      capture.push({ name: c.name, table: { where, column } });
    } else src.problem(c.key, `capture "${c.name}" needs "stdout: REGEX" or "table: {where, column}"`, 'e.g. capture: { token: { stdout: "token (\\\\S+)" } }');
  }
  return capture;
}

function readWhere(src: YamlSource, node: Node | null): Record<string, string> {
  const where: Record<string, string> = {};
  for (const w of src.entries(node, 'where')) {
    const v = src.string(w.value, `where.${w.name}`) ?? '';
    const re = v.match(/^!?\/(.*)\/$/);
    const bad = re ? regexProblem(re[1]) : undefined;
    if (bad) src.problem(w.value, bad, 'fix the pattern between the slashes');
    where[w.name] = v;
  }
  return where;
}

function readTableCheck(src: YamlSource, node: Node | null, what: string): TableCheck | undefined {
  const m = src.map(node, what, KEYS.table);
  if (!m.has('where')) {
    src.problem(node, `${what} needs "where:" (column: value pairs)`, 'e.g. where: { DESIRED STATE: Running }');
    return undefined;
  }
  const tc: TableCheck = { where: readWhere(src, m.get('where')!.value) };
  if (m.has('count')) tc.count = src.int(m.get('count')!.value, 'count');
  if (m.has('history')) tc.history = isScalar(m.get('history')!.value) && m.get('history')!.value!.toJSON() === true;
  return tc;
}

function readMatcher(src: YamlSource, node: Node | null, what: string): Matcher | undefined {
  if (isScalar(node) && typeof node.value === 'string') return { contains: node.value };
  const m = src.map(node, `a matcher in ${what}`, KEYS.matcher);
  const out: Matcher = {};
  for (const k of ['contains', 'matches', 'equals'] as const) if (m.has(k)) out[k] = src.string(m.get(k)!.value, k);
  const kinds = (['contains', 'matches', 'equals'] as const).filter((k) => m.has(k));
  if (kinds.length !== 1) {
    src.problem(node, `a matcher in ${what} needs exactly one of contains, matches, equals`, 'e.g. - contains: healthy, or - matches: "^member .* is healthy"');
    return undefined;
  }
  const bad = out.matches !== undefined ? regexProblem(out.matches) : undefined;
  if (bad) src.problem(m.get('matches')!.value, bad, 'fix the pattern (JavaScript syntax; escape backslashes in double-quoted YAML)');
  if (m.has('times')) out.times = src.int(m.get('times')!.value, 'times');
  return out;
}

function regexProblem(re: string): string | undefined {
  try {
    new RegExp(re, 'm');
    return undefined;
  } catch (e) {
    return `bad regular expression: ${(e as Error).message}`;
  }
}
