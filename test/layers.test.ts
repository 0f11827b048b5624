// The shape of lab/: layers import only downwards, no cycles, no file over 350 lines, no function
// over 80. Each rule is also shown to catch a violation, on a small tree made for it.
import test from 'ava';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import ts from 'typescript';
import { tempTree } from './helpers/files.js';

const DEPCRUISE = join(process.cwd(), 'node_modules', '.bin', 'depcruise');

async function cruise(cwd: string): Promise<{ exitCode: number; out: string }> {
  const r = await execa(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', 'lab'], { cwd, reject: false, all: true });
  return { exitCode: r.exitCode ?? 1, out: r.all ?? '' };
}

test('lab/ has no import that climbs a layer, and no cycle', async (t) => {
  const r = await cruise(process.cwd());
  t.is(r.exitCode, 0, r.out);
  t.regex(r.out, /no dependency violations found/);
});

test('the layer rules catch an upward import, a cycle and a loose file', async (t) => {
  const tree = tempTree({
    'lab/util/low.ts': "import { top } from '../cli/top.js';\nexport const low = top + 1;\n",
    'lab/cli/top.ts': 'export const top = 1;\n',
    'lab/run/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'lab/run/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    'lab/loose.ts': "import { top } from './cli/top.js';\nexport const loose = top;\n",
    'tsconfig.json': readFileSync('tsconfig.json', 'utf8'),
  });
  t.teardown(tree.remove);
  copyFileSync('.dependency-cruiser.cjs', join(tree.dir, '.dependency-cruiser.cjs'));
  const r = await cruise(tree.dir);
  t.not(r.exitCode, 0);
  t.regex(r.out, /util-imports-up: lab\/util\/low\.ts → lab\/cli\/top\.ts/);
  t.regex(r.out, /no-circular: lab\/run\/a\.ts/);
  t.regex(r.out, /lab-not-in-folder: lab\/loose\.ts/);
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Functions (declarations, methods, arrows, expressions) longer than max lines, as "file:line name (N lines)". */
export function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = (node as ts.FunctionLikeDeclaration).name?.getText(sf) ?? '(anonymous)';
      if (end - start + 1 > max) out.push(`${relative(process.cwd(), file)}:${start + 1} ${name} (${end - start + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test('no file in lab/ over 350 lines, no function over 80', (t) => {
  const files = tsFiles('lab');
  t.true(files.length > 40);
  const long = files.map((f) => [f, readFileSync(f, 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > 350);
  t.deepEqual(long, [], 'files over 350 lines');
  t.deepEqual(files.flatMap((f) => longFunctions(f, readFileSync(f, 'utf8'), 80)), [], 'functions over 80 lines');
});

test('the function-length check sees a long arrow inside a method', (t) => {
  const body = Array.from({ length: 81 }, (_, i) => `    x += ${i};`).join('\n');
  const text = `class A {\n  m() {\n    const f = () => {\n      let x = 0;\n${body}\n      return x;\n    };\n    return f;\n  }\n}\n`;
  const tree = tempTree({ 'a.ts': text });
  t.teardown(tree.remove);
  const found = longFunctions(join(tree.dir, 'a.ts'), text, 80);
  t.is(found.length, 2, found.join('\n'));
  t.true(found.some((f) => /:3 \(anonymous\)/.test(f)));
  mkdirSync(join(tree.dir, 'x'));
  writeFileSync(join(tree.dir, 'x', 'b.ts'), 'export const b = () => 1;\n');
  t.deepEqual(longFunctions(join(tree.dir, 'x', 'b.ts'), 'export const b = () => 1;\n', 80), []);
});
