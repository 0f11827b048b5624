import type { CommandResult } from '../machine/ssh.js';
import type { Capture, Expectation, Matcher } from '../scenario/model.js';
import { parseTable, select } from './tables.js';
import { render, type Vars } from '../util/template.js';
import { regexCount, regexGroup } from './boundedregex.js';

/** What a command's result got wrong against an expectation; empty when it holds. */
export function check(result: CommandResult, expect: Expectation, vars: Vars): string[] {
  const failures: string[] = [];
  if (result.exitCode === null) failures.push(`the command did not finish: ${result.error ?? 'unknown reason'}`);
  else if (expect.exit === 'nonzero') {
    if (result.exitCode === 0) failures.push('exit status 0, expected a failure (nonzero)');
  } else if (expect.exit !== undefined && result.exitCode !== expect.exit) failures.push(`exit status ${result.exitCode}, expected ${expect.exit}`);
  for (const stream of ['stdout', 'stderr'] as const) {
    for (const m of expect[stream]) {
      const problem = checkMatcher(result[stream], m, vars);
      if (problem) failures.push(`${stream} ${problem}`);
    }
  }
  if (expect.table.length) {
    const table = parseTable(result.stdout);
    for (const tc of expect.table) {
      const where = Object.fromEntries(Object.entries(tc.where).map(([k, v]) => [k, render(v, vars)]));
      const missing = Object.keys(where).filter((k) => !table.columns.includes(k));
      if (missing.length) {
        failures.push(`the table has no column ${missing.join(', ')} (columns: ${table.columns.join(', ') || 'none'})`);
        continue;
      }
      const n = select(table, where, { history: tc.history }).length;
      const desc = Object.entries(where).map(([k, v]) => `${k}=${v}`).join(', ');
      if (tc.count === undefined ? n === 0 : n !== tc.count) failures.push(`table rows where ${desc}: ${n}, expected ${tc.count ?? 'at least 1'}`);
    }
  }
  return failures;
}

export function checkMatcher(text: string, m: Matcher, vars: Vars): string | undefined {
  if (m.equals !== undefined) {
    const want = render(m.equals, vars);
    return text.trimEnd() === want.trimEnd() ? undefined : `is not equal to ${JSON.stringify(want)}`;
  }
  const [count, what] =
    m.matches !== undefined
      ? [regexCount(render(m.matches, vars), 'gm', text), `match /${render(m.matches, vars)}/`]
      : [countOf(text, render(m.contains ?? '', vars)), `contain ${JSON.stringify(render(m.contains ?? '', vars))}`];
  if (m.times !== undefined) return count === m.times ? undefined : `should ${what} ${m.times} time(s), found ${count}`;
  return count > 0 ? undefined : `does not ${what}`;
}

function countOf(text: string, needle: string): number {
  return needle ? text.split(needle).length - 1 : 0;
}

/** Values for a step's captures (from a table: the first matching row), or what could not be captured. */
export function capture(result: CommandResult, captures: Capture[], vars: Vars): { values: Vars; problems: string[] } {
  const values: Vars = {};
  const problems: string[] = [];
  for (const c of captures) {
    if ('stdout' in c) {
      const group = regexGroup(render(c.stdout, vars), 'm', result.stdout);
      if (group !== undefined) values[c.name] = group;
      else problems.push(`could not capture ${c.name}: stdout does not match /${c.stdout}/`);
    } else {
      const where = Object.fromEntries(Object.entries(c.table.where).map(([k, v]) => [k, render(v, vars)]));
      const rows = select(parseTable(result.stdout), where);
      if (rows.length >= 1 && rows[0].cells[c.table.column] !== undefined) values[c.name] = rows[0].cells[c.table.column];
      else problems.push(`could not capture ${c.name}: no table row with a ${c.table.column} column matches ${JSON.stringify(where)}`);
    }
  }
  return { values, problems };
}
