import type { CommandResult } from './guest.js';
import type { Expectation, Matcher } from './scenario.js';
import { render, type Vars } from './template.js';

/** What a command's result got wrong against an expectation; empty when it holds. */
export function check(result: CommandResult, expect: Expectation, vars: Vars): string[] {
  const failures: string[] = [];
  if (result.exitCode === null) failures.push(`the command did not finish: ${result.error ?? 'unknown reason'}`);
  else if (expect.exit !== undefined && result.exitCode !== expect.exit) failures.push(`exit status ${result.exitCode}, expected ${expect.exit}`);
  for (const stream of ['stdout', 'stderr'] as const) {
    for (const m of expect[stream]) {
      const problem = checkMatcher(result[stream], m, vars);
      if (problem) failures.push(`${stream} ${problem}`);
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
      ? [[...text.matchAll(new RegExp(render(m.matches, vars), 'gm'))].length, `match /${render(m.matches, vars)}/`]
      : [countOf(text, render(m.contains ?? '', vars)), `contain ${JSON.stringify(render(m.contains ?? '', vars))}`];
  if (m.times !== undefined) return count === m.times ? undefined : `should ${what} ${m.times} time(s), found ${count}`;
  return count > 0 ? undefined : `does not ${what}`;
}

function countOf(text: string, needle: string): number {
  return needle ? text.split(needle).length - 1 : 0;
}
