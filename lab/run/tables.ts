import { regexTest } from './boundedregex.js';
/**
 * Column tables as docker and fleetctl print them (Go's tabwriter): columns are found by the
 * header's words, not by position, so a wider ID or an extra column does not break a parser.
 */
export interface Row {
  /** Cell values by column name, trimmed. */
  cells: Record<string, string>;
  /** A `\_` history row of `docker service ps` (an earlier task of the same slot). */
  history: boolean;
  line: string;
}

export interface Table {
  columns: string[];
  rows: Row[];
}

/**
 * Parses a table whose first non-empty line is the header. Space-aligned tables (docker) are cut at
 * the header words' offsets (header words are separated by 2+ spaces; "DESIRED STATE" is one
 * name); tab-separated ones (fleetctl) are split at tabs.
 */
export function parseTable(text: string): Table {
  const lines = text.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return { columns: [], rows: [] };
  const [header, ...body] = lines;
  let columns: string[];
  let cut: (line: string) => string[];
  if (header.includes('\t')) {
    columns = header.split(/\t+/).map((c) => c.trim());
    cut = (line) => line.split(/\t+/).map((c) => c.trim());
  } else {
    const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index! }));
    columns = starts.map((c) => c.name);
    cut = (line) => starts.map((c, i) => line.slice(c.start, starts[i + 1]?.start ?? line.length).trim());
  }
  const rows = body.map((line) => {
    const values = cut(line);
    const cells: Record<string, string> = {};
    columns.forEach((c, i) => (cells[c] = values[i] ?? ''));
    let history = false;
    const nameCol = columns.includes('NAME') ? 'NAME' : columns[0];
    if (cells[nameCol]?.startsWith('\\_')) {
      history = true;
      cells[nameCol] = cells[nameCol].slice(2).trim();
    }
    return { cells, history, line };
  });
  return { columns, rows };
}

/** A where-clause value: exact text, /regex/, or either behind "!" for "anything but". */
export function cellMatches(value: string | undefined, want: string): boolean {
  if (value === undefined) return false;
  if (want.startsWith('!')) return !cellMatches(value, want.slice(1));
  const re = want.match(/^\/(.*)\/$/);
  return re ? regexTest(re[1], '', value) : value === want;
}

export function select(table: Table, where: Record<string, string>, opts: { history?: boolean } = {}): Row[] {
  return table.rows.filter((r) => (opts.history ?? false) || !r.history).filter((r) => Object.entries(where).every(([k, v]) => cellMatches(r.cells[k], v)));
}
