import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { LabError } from '../util/errors.js';

export interface Problem {
  /** When the problem is in another file than the one being checked (a node config). */
  file?: string;
  line: number;
  column: number;
  message: string;
  fix?: string;
  /** A warning does not stop a run (the default is an error, which does). */
  severity?: 'warning';
}

/** "file:line:col: message" and its fix, as a user can jump to it; "warning: " before a warning's message. */
export function formatProblem(p: Problem, path: string): string {
  return `${p.file ?? path}:${p.line}:${p.column}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}${p.fix ? `\n  fix: ${p.fix}` : ''}`;
}

/** All problems found in one file, printed as file:line:col lines a user can jump to. */
export class FileProblems extends LabError {
  constructor(readonly path: string, readonly problems: Problem[]) {
    super(problems.map((p) => p.message).join('; '), { file: path, line: problems[0]?.line, column: problems[0]?.column });
  }

  override format(): string {
    return this.problems.map((p) => formatProblem(p, this.path)).join('\n');
  }
}

/** A YAML file kept with its positions, so every later complaint can name the line and column. */
export class YamlSource {
  readonly problems: Problem[] = [];
  readonly root: Node | null;
  private lines = new LineCounter();

  constructor(readonly path: string, readonly text = readFileSync(path, 'utf8')) {
    const doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of [...doc.errors, ...doc.warnings]) {
      const pos = this.lines.linePos(e.pos[0]);
      this.problems.push({ line: pos.line, column: pos.col, message: `YAML: ${e.message.split('\n')[0]}`, fix: 'correct the YAML syntax here (indentation, quotes, a missing colon)' });
    }
    this.root = (doc.contents as Node | null) ?? null;
  }

  at(node: Node | Pair | null | undefined): { line: number; column: number } {
    const range = (node && 'range' in node ? node.range : node && 'key' in node ? (node.key as Node | null)?.range : undefined) ?? [0];
    const pos = this.lines.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  }

  problem(node: Node | Pair | null | undefined, message: string, fix?: string): void {
    this.problems.push({ ...this.at(node), message, fix });
  }

  throwIfProblems(): void {
    if (this.problems.length) throw new FileProblems(this.path, this.problems);
  }

  /** A mapping whose keys must all be known; unknown ones are reported with a did-you-mean. */
  map(node: Node | null | undefined, what: string, known: string[]): Map<string, { key: Node; value: Node | null }> {
    const out = new Map<string, { key: Node; value: Node | null }>();
    if (!isMap(node)) {
      this.problem(node, `${what} must be a mapping (key: value lines)`, `write it as indented "key: value" lines; known keys: ${known.join(', ')}`);
      return out;
    }
    for (const pair of (node as YAMLMap<Node, Node | null>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!known.includes(key)) {
        const near = closest(key, known);
        this.problem(pair.key, `unknown key "${key}" in ${what}`, near ? `did you mean "${near}"?` : `known keys: ${known.join(', ')}`);
        continue;
      }
      out.set(key, { key: pair.key as Node, value: pair.value ?? null });
    }
    return out;
  }

  /** A mapping with free keys (names), e.g. nodes. */
  entries(node: Node | null | undefined, what: string): Array<{ name: string; key: Node; value: Node | null }> {
    if (!isMap(node)) {
      this.problem(node, `${what} must be a mapping of names`, 'write it as indented "name: ..." lines');
      return [];
    }
    return (node as YAMLMap<Node, Node | null>).items.map((p) => ({ name: isScalar(p.key) ? String(p.key.value) : '', key: p.key as Node, value: p.value ?? null }));
  }

  seq(node: Node | null | undefined, what: string): Node[] {
    if (!isSeq(node)) {
      this.problem(node, `${what} must be a list (lines starting with "- ")`, 'write one item per line, each starting with "- "');
      return [];
    }
    return (node as YAMLSeq<Node>).items;
  }

  string(node: Node | null | undefined, what: string): string | undefined {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) return String(node.value);
    this.problem(node, `${what} must be a string`, 'write it as text (quote it if YAML reads it as something else)');
    return undefined;
  }

  int(node: Node | null | undefined, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (isScalar(node) && Number.isInteger(node.value) && (node.value as number) >= min && (node.value as number) <= max) return node.value as number;
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    this.problem(node, `${what} must be a whole number ${range}`, `write a number ${range}`);
    return undefined;
  }

  /** "90s", "5m", "1h" or a number of seconds, as milliseconds, within [minMs, maxMs]. */
  duration(node: Node | null | undefined, what: string, minMs = 1000, maxMs = 48 * 3_600_000): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const m = String(v ?? '').match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/);
    if (!m || v === null || v === undefined) {
      this.problem(node, `${what} must be a duration like 30s, 5m or 1h`, 'write a number with a unit: ms, s, m or h');
      return undefined;
    }
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
    const ms = Number(m[1]) * unit;
    if (ms < minMs || ms > maxMs) {
      this.problem(node, `${what} of ${String(v)} is out of range`, `use a duration from ${fmt(minMs)} to ${fmt(maxMs)}`);
      return undefined;
    }
    return ms;
  }
}

function fmt(ms: number): string {
  return ms >= 3_600_000 ? `${ms / 3_600_000}h` : ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The nearest known word, if it is near enough to be a likely typo. */
export function closest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
