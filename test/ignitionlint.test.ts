// `corelab lint` on Ignition node configs: each problem at the line of its key, with a fix.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../lab/images/catalog.js';
import { lintNodeConfig } from '../lab/guestconfig/lint.js';
import { loadPlan } from '../lab/run/plan.js';
import { FileProblems, type Problem } from '../lab/scenario/yamlsource.js';
import { jsonErrorAt, JsonPositions, JsonSyntaxError } from '../lab/guestconfig/jsonpos.js';
import { scenario, tempTree } from './helpers/files.js';
import { corelab } from './helpers/lab.js';

const catalog = loadCatalog();
const labos = catalog.get('labos')!;
const flatcar = catalog.get('flatcar-stable')!;
const ARTICLE = readFileSync('test/fixtures/ignition/article-2.0.0.json', 'utf8');
const lint = (text: string, image = labos): Problem[] => lintNodeConfig('/work/n/node.ign', text, {}, image);
const brief = (ps: Problem[]) => ps.map((p) => `${p.line}:${p.column} ${p.severity ?? 'error'} ${p.message}`);

test("the article's 2.0.0 config on labos: the cloud-config keys command and runtime are dropped, with a warning at their lines", (t) => {
  const ps = lint(ARTICLE);
  t.deepEqual(brief(ps), [
    '37:13 warning systemd.units[0].command is not an Ignition 2.0.0 key: Ignition ignores it, and so does the translation',
    '38:13 warning systemd.units[0].runtime is not an Ignition 2.0.0 key: Ignition ignores it, and so does the translation',
  ]);
  t.regex(ps[0].file!, /(^|\/)n\/node\.ign$/);
  t.regex(ps[0].fix!, /"enabled": true has systemd start the unit at boot/);
  // Flatcar's Ignition ignores them too, so it is told the same.
  t.deepEqual(lint(ARTICLE, flatcar).map((p) => `${p.line} ${p.severity}`), ['37 warning', '38 warning']);
});

test('invalid JSON is named at the line and column of the JSON error', (t) => {
  const ps = lint('{\n  "ignition": { "version": "2.2.0" },\n  "storage": { "files": [ } ]\n}\n');
  t.is(ps.length, 1);
  t.like(ps[0], { line: 3, column: 27 });
  t.regex(ps[0].message, /^not valid JSON: /);
  t.regex(ps[0].fix!, /quotes and commas/);
  t.like(lint('{\n  "ignition": { "version": "2.2.0" }\n')[0], { line: 2 });
});

test('a missing or unreadable spec version is an error at its key, saying which versions labos takes', (t) => {
  const none = lint('{\n  "ignition": {}\n}\n');
  t.deepEqual(brief(none), ['2:3 error an Ignition config needs ignition.version (labos takes 2.0.0, 2.1.0, 2.2.0, 2.3.0, 3.0.0, 3.1.0, 3.2.0, 3.3.0)']);
  for (const v of ['2.4.0', '3.4.0', '1', 'x']) {
    const ps = lint(`{\n  "ignition": {\n    "version": "${v}"\n  }\n}\n`);
    t.deepEqual(brief(ps), [`3:5 error ignition.version "${v}" is not a spec labos reads: its Ignition reads 3.0.0, 3.1.0, 3.2.0, 3.3.0, and corelab translates 2.0.0, 2.1.0, 2.2.0, 2.3.0 to 3.3.0`], v);
    t.is(ps[0].fix, 'use one of 2.0.0, 2.1.0, 2.2.0, 2.3.0, 3.0.0, 3.1.0, 3.2.0, 3.3.0');
  }
  t.deepEqual(lint('{"ignition": {"version": "3.3.0"}}'), []);
  t.deepEqual(lint('{"ignition": {"version": "3.4.0"}}', flatcar), [], 'Flatcar: the version is its Ignition\'s business');
});

test('a path that is not absolute or has ".." is an error at that path, in 3.x and 2.x configs alike', (t) => {
  const v3 = '{\n  "ignition": {"version": "3.3.0"},\n  "storage": {\n    "files": [{"path": "etc/motd"}],\n    "links": [\n      {"path": "/etc/../../x", "target": "/y"}\n    ]\n  }\n}\n';
  t.deepEqual(brief(lint(v3)), [
    '4:16 error storage.files[0].path "etc/motd" is not absolute',
    '6:8 error storage.links[0].path "/etc/../../x" has a ".." segment, which escapes its filesystem',
  ]);
  t.is(lint(v3)[0].fix, 'write the full path from the filesystem\'s top, starting with "/" and without ".."');
  t.deepEqual(brief(lint(v3, flatcar)).map((l) => l.split(' ')[0]), ['4:16', '6:8']);
  const v2 = '{\n  "ignition": {"version": "2.1.0"},\n  "storage": {\n    "directories": [\n      {"filesystem": "root",\n       "path": "../x"}\n    ]\n  }\n}\n';
  t.deepEqual(brief(lint(v2)), ['6:8 error storage.directories[0].path "../x" is not absolute']);
});

test('what the translation cannot carry over is an error at its key: a file on a filesystem with no path, create without force', (t) => {
  const text = `{
  "ignition": { "version": "2.0.0" },
  "storage": {
    "filesystems": [
      { "name": "data",
        "mount": { "device": "/dev/vdb", "format": "ext4",
                   "create": { "options": ["-m0"] } } }
    ],
    "files": [
      { "filesystem": "data", "path": "/hello", "contents": { "source": "data:,hi" } }
    ]
  }
}
`;
  const ps = lint(text);
  t.deepEqual(brief(ps).map((l) => l.replace(/ error (\S+) .*/, ' $1')), ['7:20 storage.filesystems[0].mount.create', '10:9 storage.files[0].filesystem']);
  t.regex(ps[0].message, /create without "force": true has no spec 3 equivalent/);
  t.regex(ps[0].fix!, /add "force": true/);
  t.regex(ps[1].fix!, /put it on "root" under the path where "data" is mounted/);
  t.deepEqual(lint(text, flatcar), [], 'Flatcar reads it as written');
});

test('corelab lint (loadPlan): warnings let the scenario load, and are listed with an error when there is one', (t) => {
  const ok = tempTree({ ...scenario('name: t\nnodes:\n  a: { address: 192.168.0.10, config: node.ign }\nsteps:\n  - name: hello\n    on: a\n    run: echo hi\n'), 'node.ign': ARTICLE });
  t.teardown(ok.remove);
  const said: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => said.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    t.is(loadPlan(ok.dir, { catalog }).image, 'labos');
  } finally {
    process.stderr.write = write;
  }
  t.regex(said.join(''), /warning: \S*node\.ign:37:13: systemd\.units\[0\]\.command is not an Ignition 2\.0\.0 key/);
  t.regex(said.join(''), /node\.ign:38:13: systemd\.units\[0\]\.runtime/);
  const bad = tempTree({ ...scenario('name: t\nnodes:\n  a: { address: 192.168.0.10, config: node.ign }\nsteps:\n  - name: hello\n    on: a\n    run: echo hi\n'), 'node.ign': ARTICLE.replace('"/etc/hostname"', '"etc/hostname"') });
  t.teardown(bad.remove);
  const err = t.throws(() => loadPlan(bad.dir, { catalog }), { instanceOf: FileProblems }) as FileProblems;
  const text = err.format();
  t.regex(text, new RegExp(`${join(bad.dir, 'node.ign').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:22:13: storage\\.files\\[1\\]\\.path "etc/hostname" is not absolute\\n {2}fix: `));
  t.regex(text, /node\.ign:37:13: warning: systemd\.units\[0\]\.command is not an Ignition 2\.0\.0 key/);
});

test('the JSON scanner takes what JSON.parse takes, finds keys with escapes, and stops where the text goes wrong', (t) => {
  const texts = ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\"y"]} ', '{"a\\u0062": {"c": []}}', '{"a": 1,}', '[1 2]', '{"a" 1}', '{"a": tru}', '"abc', '{"a": 1}}', '01', '{"a":\n"b\nc"}', ''];
  for (const text of texts) {
    let parsed = true;
    try {
      JSON.parse(text);
    } catch {
      parsed = false;
    }
    let scanned = true;
    try {
      new JsonPositions(text);
    } catch (e) {
      t.true(e instanceof JsonSyntaxError, text);
      scanned = false;
    }
    t.is(scanned, parsed, text);
  }
  const pos = new JsonPositions('{\n  "ab": {\n    "c": [0,\n      {"d": 1}]}}');
  t.deepEqual(pos.of(['ab']), { line: 2, column: 3 });
  t.deepEqual(pos.of(['ab', 'c', 1, 'd']), { line: 4, column: 8 });
  t.deepEqual(pos.of(['ab', 'c', 1, 'nope']), { line: 4, column: 7 }, 'the nearest enclosing entry');
  t.deepEqual(new JsonPositions('{"a\\u0062": 1}').of(['ab']), { line: 1, column: 2 });
  t.deepEqual(jsonErrorAt('{\n  "a": 1,\n}', new Error('Unexpected token')), { line: 3, column: 1 });
});

test('corelab lint on a labos scenario with an Ignition config: the warnings on stderr, and an untranslatable key as a failure with its line and fix', async (t) => {
  const body = 'name: t\nnodes:\n  a: { address: 192.168.0.10, config: node.ign }\nsteps:\n  - name: hello\n    on: a\n    run: echo hi\n';
  const ok = tempTree({ ...scenario(body), 'node.ign': ARTICLE });
  t.teardown(ok.remove);
  const r = await corelab(['lint', ok.dir]);
  t.is(r.exitCode, 0, r.all);
  t.regex(r.stdout, /: ok \(1 nodes, 1 steps\)/);
  t.regex(r.stderr, /warning: \S*node\.ign:37:13: systemd\.units\[0\]\.command is not an Ignition 2\.0\.0 key/);
  const bad = tempTree({ ...scenario(body), 'node.ign': ARTICLE.replace('"filesystem": "root",\n            "path": "/etc/hostname"', '"filesystem": "oem",\n            "path": "/etc/hostname"') });
  t.teardown(bad.remove);
  const b = await corelab(['lint', bad.dir]);
  t.is(b.exitCode, 2, b.all);
  t.regex(b.stderr, /node\.ign:21:13: storage\.files\[1\]\.filesystem "oem" is not "root" and names no filesystem with a "path".*\n {2}fix: put it on "root"/);
});
