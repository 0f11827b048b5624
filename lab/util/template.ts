/** `{{ name }}` placeholders, filled from a flat map of dotted names. */
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_.-]*)\s*\}\}/g; // {{.Go}} templates (docker --format) are left alone

export type Vars = Record<string, string>;

/** Names used in a text that vars does not define, with the line each first stands on. */
export function unknownNames(text: string, known: (name: string) => boolean): Array<{ name: string; line: number; column: number }> {
  const out: Array<{ name: string; line: number; column: number }> = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (known(m[1])) continue;
    const before = text.slice(0, m.index).split('\n');
    out.push({ name: m[1], line: before.length, column: before[before.length - 1].length + 1 });
  }
  return out;
}

export function render(text: string, vars: Vars): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in vars ? vars[name] : whole));
}
