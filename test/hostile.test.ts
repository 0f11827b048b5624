// Hostile input (issue 14, item 9): each case is a scenario folder a user (or an attacker) could
// write. corelab must refuse it cleanly: exit 2, a file:line:col location, a fix: line, no Node
// stack trace, and nothing left behind. Nothing here boots: lint only, and `run` with PATH empty,
// an empty cache and a private state dir, where the refusal must come before any lab work.
// Each case names the item of issue 14 whose work it needs.
import test from 'ava';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLI, processesMentioning } from './helpers/lab.js';

/** In every scenario name: what a lab of these scenarios would leave (folders, processes) contains it. */
const MARK = 'hzq';
const CC = '#cloud-config\nhostname: "{{node.name}}"\n';
const root = mkdtempSync(join(tmpdir(), 'hostile-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  /** Short id; the folder name and part of the scenario name. */
  id: string;
  /** The item of issue 14 whose work makes it pass (1 names, 2 config paths, 3 bounds and fix: lines, 4 host http, loader: the config lint's locations and BOM, ok: passes already). */
  item: string;
  /** scenario.yaml; NAME is replaced by the case's scenario name. */
  yaml: string;
  /** More files (text), or a function that makes them in the case folder. */
  files?: Record<string, string> | ((dir: string) => void);
  /** Where the refusal must point: file and line (the column may be any). */
  at: [file: string, line: number];
  /** What the message must say (loosely). */
  says: RegExp;
  /** What the output must not contain (e.g. lines of a file it must not read, or wrong advice). */
  never?: RegExp;
  /** Lines matching never are secrets (a file's lines): never shown, not even in a failure message. */
  secret?: boolean;
  /** `corelab run` instead of lint: the refusal must come before anything boots. */
  run?: boolean;
  /** Exit 0 is right too (the input is fine), as long as the output is not wrong. */
  mayPass?: boolean;
}

const node = (extra = '') => `nodes:\n  a: { address: 192.168.0.10, config: cloud-config.yaml${extra} }\n`;
const STEPS = 'steps:\n  - name: hello\n    on: a\n    run: echo hi\n';
/** A scenario of NAME, one node, one step; lines: 1 name, 2 nodes:, 3 node a, 4 steps:, 5-7 the step. */
const basic = (nodeExtra = '') => `name: NAME\n${node(nodeExtra)}${STEPS}`;
/** The basic scenario with a top-level block after the name (line 2 on), so the node is after it. */
const withTop = (block: string) => `name: NAME\n${block}${node()}${STEPS}`;
/** The basic scenario with its one step replaced (the step's first line is line 5). */
const withStep = (step: string, nodeExtra = '') => `name: NAME\n${node(nodeExtra)}steps:\n${step}`;
const httpStep = (url: string) => withStep(`  - name: get\n    http: { url: '${url}', from: host }\n`, ', ports: [80]');

const CASES: Case[] = [
  // Names (item 1): they reach temp paths, the report folder and QEMU option strings.
  { id: 'name-dotdot', item: '1', yaml: basic().replace('NAME', '/../../NAME'), at: ['scenario.yaml', 1], says: /name/ },
  { id: 'name-dotdot-run', item: '1', yaml: basic().replace('NAME', '/../../NAME'), at: ['scenario.yaml', 1], says: /name/, run: true },
  { id: 'name-comma', item: '1', yaml: basic().replace('NAME', 'NAME,format=raw'), at: ['scenario.yaml', 1], says: /name/ },
  { id: 'name-comma-run', item: '1', yaml: basic().replace('NAME', 'NAME,file=/etc/shadow'), at: ['scenario.yaml', 1], says: /name/, run: true },
  { id: 'name-long', item: '1', yaml: basic().replace('NAME', `NAME-${'a'.repeat(300)}`), at: ['scenario.yaml', 1], says: /name.*(long|length|characters)/ },
  { id: 'name-newline', item: '1', yaml: basic().replace('NAME', '"NAME\\nx"'), at: ['scenario.yaml', 1], says: /name/ },
  { id: 'name-empty', item: '1', yaml: basic().replace('NAME', '""'), at: ['scenario.yaml', 1], says: /name/ },
  // Node config paths (item 2): inside the scenario folder, regular files, size-capped, never echoed.
  { id: 'config-shadow', item: '2', yaml: basic().replace('cloud-config.yaml', '/etc/shadow'), at: ['scenario.yaml', 3], says: /config/, never: /^(root|daemon|bin):/m, secret: true },
  { id: 'config-shadow-run', item: '2', yaml: basic().replace('cloud-config.yaml', '/etc/shadow'), at: ['scenario.yaml', 3], says: /config/, never: /^(root|daemon|bin):/m, secret: true, run: true },
  { id: 'config-dev-zero', item: '2', yaml: basic().replace('cloud-config.yaml', '/dev/zero'), at: ['scenario.yaml', 3], says: /config/ },
  { id: 'config-fifo', item: '2', yaml: basic(), files: (d) => execFileSync('mkfifo', [join(d, 'cloud-config.yaml')]), at: ['scenario.yaml', 3], says: /config|regular file/ },
  { id: 'config-empty', item: '2', yaml: basic(), files: { 'cloud-config.yaml': '' }, at: ['scenario.yaml', 3], says: /empty|config/ },
  { id: 'config-dotdot', item: '2', yaml: basic().replace('cloud-config.yaml', '../outside-cc.yaml'), files: (d) => writeFileSync(join(dirname(d), 'outside-cc.yaml'), CC), at: ['scenario.yaml', 3], says: /outside|folder/ },
  { id: 'config-symlink', item: '2', yaml: basic(), files: (d) => { writeFileSync(join(dirname(d), 'outside-link-target.yaml'), CC); symlinkSync(join(dirname(d), 'outside-link-target.yaml'), join(d, 'cloud-config.yaml')); }, at: ['scenario.yaml', 3], says: /outside|link|folder/ },
  { id: 'config-dir', item: '2', yaml: basic().replace('cloud-config.yaml', 'sub'), files: (d) => mkdirSync(join(d, 'sub')), at: ['scenario.yaml', 3], says: /regular file|folder|directory/ },
  { id: 'config-huge', item: '2', yaml: basic(), files: { 'cloud-config.yaml': `#cloud-config\nwrite_files:\n  - path: /x\n    content: "${'x'.repeat(20 * 1024 * 1024)}"\n` }, at: ['scenario.yaml', 3], says: /big|large|size|MiB|bytes/ },
  { id: 'config-proc', item: '2', yaml: basic().replace('cloud-config.yaml', '/proc/self/environ'), at: ['scenario.yaml', 3], says: /config/, never: /PATH=/, secret: true },
  // Bounds (item 3).
  { id: 'timeout-600h', item: '3', yaml: withTop('timeouts: { scenario: 600h }\n'), at: ['scenario.yaml', 2], says: /timeouts\.scenario|at most|too long/ },
  { id: 'timeout-2000h', item: '3', yaml: withTop('timeouts: { scenario: 2000h }\n'), at: ['scenario.yaml', 2], says: /timeouts\.scenario|at most|too long/ },
  { id: 'boot-0s', item: '3', yaml: withTop('timeouts: { boot: 0s }\n'), at: ['scenario.yaml', 2], says: /boot|at least/ },
  { id: 'until-9999h', item: '3', yaml: withStep('  - name: wait\n    on: a\n    run: "true"\n    until: { timeout: 9999h, interval: 1s }\n'), at: ['scenario.yaml', 8], says: /timeout|at most/ },
  { id: 'memory-huge', item: '3', yaml: basic(', memory: 99999999999'), at: ['scenario.yaml', 3], says: /memory/ },
  { id: 'memory-tiny', item: '3', yaml: basic(', memory: 1'), at: ['scenario.yaml', 3], says: /memory/ },
  { id: 'cpus-huge', item: '3', yaml: basic(', cpus: 100000'), at: ['scenario.yaml', 3], says: /cpus/ },
  { id: 'cpus-zero', item: '3', yaml: basic(', cpus: 0'), at: ['scenario.yaml', 3], says: /cpus/ },
  { id: 'port-70000', item: '3', yaml: basic(', ports: [70000]'), at: ['scenario.yaml', 3], says: /port/ },
  { id: 'port-0', item: '3', yaml: basic(', ports: [0]'), at: ['scenario.yaml', 3], says: /port/ },
  // Host-side HTTP (item 4): only to 127.0.0.1 ports the lab published.
  { id: 'http-metadata', item: '4', yaml: httpStep('http://169.254.169.254/latest/meta-data/'), at: ['scenario.yaml', 6], says: /169\.254\.169\.254/ },
  { id: 'http-metadata-run', item: '4', yaml: httpStep('http://169.254.169.254/'), at: ['scenario.yaml', 6], says: /169\.254\.169\.254/, run: true },
  { id: 'http-unpublished', item: '4', yaml: httpStep('http://127.0.0.1:9999/'), at: ['scenario.yaml', 6], says: /9999.*not published|published/ },
  { id: 'http-localhost', item: '4', yaml: httpStep('http://localhost:{{nodes.a.ports.80}}/'), at: ['scenario.yaml', 6], says: /localhost/ },
  // Regexes and templates (a refusal without a fix: line needs item 3's "every refusal has one").
  { id: 'matches-invalid', item: 'ok', yaml: withStep('  - name: m\n    on: a\n    run: echo\n    expect:\n      stdout:\n        - matches: "(unclosed"\n'), at: ['scenario.yaml', 10], says: /regex|regular expression/ },
  { id: 'capture-invalid', item: '3', yaml: withStep('  - name: c\n    on: a\n    run: echo\n    capture:\n      x: { stdout: "([a-" }\n'), at: ['scenario.yaml', 9], says: /regex|regular expression/ },
  { id: 'config-undefined-var', item: 'loader', yaml: basic(), files: { 'cloud-config.yaml': '#cloud-config\nhostname: "{{node.nmae}}"\n' }, at: ['cloud-config.yaml', 2], says: /node\.nmae/ },
  { id: 'step-undefined-var', item: 'ok', yaml: withStep('  - name: v\n    on: a\n    run: echo {{nope}}\n'), at: ['scenario.yaml', 7], says: /nope/ },
  { id: 'config-bom', item: 'loader', yaml: basic(), files: { 'cloud-config.yaml': `\uFEFF${CC}` }, at: ['cloud-config.yaml', 1], says: /BOM|byte order mark/, never: /add.*#cloud-config|must start with #cloud-config/i, mayPass: true },
  { id: 'config-no-header', item: 'ok', yaml: basic(), files: { 'cloud-config.yaml': 'hostname: x\n' }, at: ['cloud-config.yaml', 1], says: /#cloud-config/ },
  // Unknown keys at every level.
  { id: 'unknown-top', item: 'ok', yaml: withTop('nodez: {}\n'), at: ['scenario.yaml', 2], says: /unknown key "nodez"/ },
  { id: 'unknown-node-key', item: 'ok', yaml: basic(', memroy: 512'), at: ['scenario.yaml', 3], says: /unknown key "memroy"/ },
  { id: 'unknown-step-key', item: 'ok', yaml: withStep('  - name: s\n    on: a\n    run: echo\n    expcet: { exit: 0 }\n'), at: ['scenario.yaml', 8], says: /unknown key "expcet"/ },
  { id: 'unknown-expect-key', item: 'ok', yaml: withStep('  - name: s\n    on: a\n    run: echo\n    expect: { exitt: 0 }\n'), at: ['scenario.yaml', 8], says: /unknown key "exitt"/ },
  { id: 'unknown-timeouts-key', item: 'ok', yaml: withTop('timeouts: { boto: 1m }\n'), at: ['scenario.yaml', 2], says: /unknown key "boto"/ },
  { id: 'unknown-http-key', item: 'ok', yaml: withStep('  - name: get\n    http: { url: "http://{{nodes.a.address}}/", from: a, stauts: 200 }\n'), at: ['scenario.yaml', 6], says: /unknown key "stauts"/ },
  // Wrong types.
  { id: 'nodes-a-list', item: 'ok', yaml: `name: NAME\nnodes:\n  - a\n${STEPS}`, at: ['scenario.yaml', 3], says: /mapping/ },
  { id: 'steps-a-map', item: 'ok', yaml: `name: NAME\n${node()}steps: { a: 1 }\n`, at: ['scenario.yaml', 4], says: /list/ },
  { id: 'memory-string', item: '3', yaml: basic(', memory: lots'), at: ['scenario.yaml', 3], says: /memory/ },
  { id: 'timeout-not-duration', item: '3', yaml: withTop('timeouts: { boot: soon }\n'), at: ['scenario.yaml', 2], says: /duration|boot/ },
  // Structure.
  { id: 'duplicate-key', item: 'ok', yaml: `name: NAME\nname: other\n${node()}${STEPS}`, at: ['scenario.yaml', 2], says: /unique|duplicate/i },
  { id: 'duplicate-address', item: 'ok', yaml: 'name: NAME\nnodes:\n  a: { address: 192.168.0.10, config: cloud-config.yaml }\n  b: { address: 192.168.0.10, config: cloud-config.yaml }\n' + STEPS, at: ['scenario.yaml', 4], says: /192\.168\.0\.10/ },
  { id: 'unknown-node-step', item: 'ok', yaml: withStep('  - name: s\n    on: b\n    run: echo\n'), at: ['scenario.yaml', 6], says: /"?b"?/ },
  { id: 'address-outside-subnet', item: 'ok', yaml: 'name: NAME\nnodes:\n  a: { address: 10.9.9.9, config: cloud-config.yaml }\n' + STEPS, at: ['scenario.yaml', 3], says: /10\.9\.9\.9/ },
  { id: 'yaml-alias-bomb', item: 'ok', yaml: `name: NAME\nx: &a [1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nv: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n${node()}${STEPS}`, at: ['scenario.yaml', 2], says: /alias|unknown key/i },
  { id: 'unknown-image', item: 'ok', yaml: withTop('image: nosuch\n'), at: ['scenario.yaml', 2], says: /nosuch/ },
  { id: 'bad-checkpoint-name', item: 'ok', yaml: withStep('  - name: s\n    on: a\n    run: echo\n    checkpoint: "../x"\n'), at: ['scenario.yaml', 8], says: /checkpoint/ },
];

/** At most this many CLIs at once (each is a Node process loading TypeScript). */
const PARALLEL = 4;
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** What a lab of a case would leave: anything with the case's mark in the temp dir, its parent or /. */
function leftovers(mark: string): string[] {
  const places = [...new Set([tmpdir(), dirname(tmpdir()), '/', root])];
  return places.flatMap((p) => readdirSync(p).filter((e) => e.includes(mark)).map((e) => join(p, e)));
}

function write(c: Case): string {
  const dir = join(root, c.id, 'scen');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scenario.yaml'), c.yaml.replaceAll('NAME', `${MARK}-${c.id}`));
  // A function makes the node config itself (a FIFO, a symlink, or one outside the folder).
  if (typeof c.files === 'function') c.files(dir);
  else for (const [f, text] of Object.entries({ 'cloud-config.yaml': CC, ...c.files })) writeFileSync(join(dir, f), text);
  return dir;
}

function cli(args: string[], caseDir: string) {
  const env = { PATH: '/nonexistent', CORELAB_CACHE: join(caseDir, 'cache'), CORELAB_STATE: join(caseDir, 'state'), CORELAB_CHECKPOINTS: join(caseDir, 'checkpoints') };
  return slot(() => execa(process.execPath, [...CLI, ...args], { reject: false, all: true, env, extendEnv: true, timeout: 20_000, forceKillAfterDelay: 2000 }));
}

/** Cases that may hang until the lead's config checks land: first, so their 20s overlap the rest. */
const SLOW = ['config-dev-zero', 'config-fifo', 'config-huge'];
const RUNS = [...CASES.filter((c) => SLOW.includes(c.id)), ...CASES.filter((c) => !SLOW.includes(c.id))].map((c) => ({ c, cmd: c.run ? 'run' : 'lint' }));
let finished = 0;

for (const { c, cmd } of RUNS) {
  test(`[item ${c.item}] ${cmd} ${c.id}`, async (t) => {
    t.timeout(600_000); // waiting for a slot counts too
    t.teardown(() => void finished++);
    const dir = write(c);
    const args = cmd === 'run' ? ['run', dir, '--report', join(root, c.id, 'out')] : ['lint', dir];
    const r = await cli(args, join(root, c.id));
    const raw = r.all ?? '';
    // Output that echoes what it must not read is never shown, not even in a failure message.
    const redact = (text: string) => (c.secret ? text.split('\n').map((l) => (c.never!.test(l) ? '[redacted]' : l)).join('\n') : text);
    const out = redact(raw);
    const stderr = redact(r.stderr);
    t.false(r.timedOut, `corelab ${cmd} did not finish within 20s`);
    t.notRegex(out, /^\s+at \S/m, 'no Node stack trace');
    if (c.never) t.false(c.never.test(raw), `it does not echo what it must not read (${c.never})`);
    t.deepEqual(leftovers(`${MARK}-${c.id}`), [], 'nothing of the case is left in the temp dir, its parent or /');
    if (cmd === 'run') t.notRegex(out, /lab folder|[<=]== scenario|needs host tools|building labos/i, 'refused before any image or lab work');
    if (c.mayPass && r.exitCode === 0) return;
    t.is(r.exitCode, 2, out);
    const [file, line] = c.at;
    t.regex(stderr, new RegExp(`(^|/)${file.replace('.', '\\.')}:${line}:\\d+: `, 'm'), `the refusal points at ${file}:${line}:COL`);
    t.regex(stderr, /^\s+fix: \S/m, 'with a fix: line');
    t.regex(stderr, c.says);
  });
}

test('at least 40 hostile inputs, and no process of any case is left', async (t) => {
  t.timeout(600_000);
  t.true(CASES.length >= 40, `${CASES.length} cases`);
  t.is(new Set(CASES.map((c) => c.id)).size, CASES.length, 'case ids are unique');
  // Wait for every case (ava runs them concurrently with this one), then look for what they left.
  while (finished < RUNS.length) await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(processesMentioning(MARK), [], 'no qemu, vde_switch, etcd or socat of any case');
  t.deepEqual(leftovers(MARK), []);
});
