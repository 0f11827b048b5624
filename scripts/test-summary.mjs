// The accounting behind run-tests.mjs's last line, from ava's TAP output, the per-test trace its
// workers wrote (ava-trace.mjs) and ava's exit code. A test that passed, failed or was skipped
// counts once; a test file that crashed (threw at import, exited, was killed, had no tests, timed
// out, or stopped with tests unfinished) counts as one failure, named with the reason and the
// tests that never reported. Anything else that does not add up (no TAP plan, ava's counts
// disagreeing with the trace, ava failing with no failure seen) is a failure too, so the line
// never says "0 failed" for a run that did not pass.
import { relative } from 'node:path';

const RESULT = /^(not ok|ok)\s+(\d+)(?:\s+-\s+(.*?))?\s*(?:#\s*(SKIP|TODO)\b.*)?$/i;
const EXITED = /^(.+?) exited (with a non-zero exit code: \d+|due to \S+)$/;
const NO_TESTS = /^No tests found in (.+?)(?:, make sure to import "ava".*)?$/;

/** The TAP stream as results, crash lines, the plan and ava's closing counts. */
export function parseTap(lines) {
  const tap = { results: [], crashes: [], plan: undefined, counts: {} };
  for (const line of lines) {
    const plan = line.match(/^1\.\.(\d+)\s*$/);
    if (plan) tap.plan = Number(plan[1]);
    const count = line.match(/^# (tests|pass|skip|fail) (\d+)\s*$/);
    if (count) tap.counts[count[1]] = Number(count[2]);
    const m = line.match(RESULT);
    if (!m) continue;
    const [, status, index, title = '', directive] = m;
    const crash = title.match(EXITED) ?? title.match(NO_TESTS);
    if (status === 'not ok' && !directive && crash) {
      tap.crashes.push({ index: Number(index), file: crash[1], reason: title.match(EXITED) ? `exited ${crash[2]}` : 'no tests found' });
    } else {
      tap.results.push({ index: Number(index), ok: status === 'ok', title, directive: directive?.toUpperCase() });
    }
  }
  return tap;
}

/** Per test file: the tests it selected (skip/todo), and those that passed or failed. */
export function parseTrace(text, cwd) {
  const files = new Map();
  const fileOf = (name) => {
    const rel = relative(cwd, name);
    if (!files.has(rel)) files.set(rel, { selected: new Map(), passed: new Set(), failed: new Set() });
    return files.get(rel);
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let evt;
    try {
      evt = JSON.parse(line);
    } catch {
      continue; // a line cut short by a killed worker
    }
    const f = fileOf(evt.file);
    if (evt.type === 'selected-test') f.selected.set(evt.title, { skip: evt.skip, todo: evt.todo });
    else if (evt.type === 'test-passed') f.passed.add(evt.title);
    else if (evt.type === 'test-failed') f.failed.add(evt.title);
  }
  return files;
}

const quoted = (titles) => titles.map((t) => JSON.stringify(t)).join(', ');

/** Why ava's main process stopped writing TAP, from its stderr (its TAP reporter throws on these). */
function whyTapStopped(stderr) {
  if (/writeTimeout/.test(stderr)) return "ava's timeout fired (no test finished within its timeout)";
  if (/writeProcessExit/.test(stderr)) return 'a test file called process.exit()';
  return 'ava stopped before writing its plan';
}

/**
 * "not ok" lines that are no test's failure (an error thrown at import, an unhandled rejection):
 * ava writes each just before the crash of its file, so each explains the next crash line.
 */
function crashErrors(tap, files) {
  const failedTitles = [...files.values()].flatMap((f) => [...f.failed]);
  const isTest = (title) => failedTitles.some((t) => title === t || title.endsWith(` \u203a ${t}`));
  const orphans = tap.results.filter((r) => !r.ok && !r.directive && !isTest(r.title));
  const errors = new Map(tap.crashes.map((c) => [c, []]));
  const leftover = [];
  for (const o of orphans) {
    const crash = tap.crashes.find((c) => c.index > o.index);
    if (crash) errors.get(crash).push(o.title);
    else leftover.push(o.title);
  }
  return { errors, leftover };
}

/** Files that failed as a whole, each once, with the reason and the tests that never reported. */
function fileFailures(tap, files, stderr) {
  const byFile = new Map();
  const { errors, leftover } = crashErrors(tap, files);
  for (const c of tap.crashes) {
    const prev = byFile.get(c.file);
    const reason = errors.get(c).length ? `${c.reason} (${errors.get(c).join('; ')})` : c.reason;
    byFile.set(c.file, prev ? `${prev}; ${reason}` : reason);
  }
  const stopped = tap.plan === undefined ? whyTapStopped(stderr) : undefined;
  const unfinishedFiles = [...files].filter(([, f]) => unfinishedIn(f).length);
  for (const [file, f] of unfinishedFiles) {
    // A failed hook is a "not ok" of its own with no crash after it: it explains its file's unfinished tests.
    const own = leftover.filter((e) => unfinishedFiles.length === 1 || isOfFile(e, file));
    own.forEach((e) => leftover.splice(leftover.indexOf(e), 1));
    const unfinished = `did not finish: ${quoted(unfinishedIn(f))}`;
    const reason = byFile.get(file) ?? stopped ?? `its tests did not all report a result${own.length ? ` (${own.join('; ')})` : ''}`;
    byFile.set(file, `${reason}; ${unfinished}`);
  }
  return [...[...byFile].map(([file, reason]) => `${file}: ${reason}`), ...leftover.map((e) => `ava reported an error outside any test: ${e}`)];
}

const unfinishedIn = (f) => [...f.selected].filter(([t, s]) => !s.skip && !s.todo && !f.passed.has(t) && !f.failed.has(t)).map(([t]) => t);

/** Whether a TAP title ("dir \u203a file \u203a before hook") names this test file, as ava prefixes titles. */
function isOfFile(title, file) {
  const parts = title.split(' \u203a ');
  if (parts.length < 2) return false;
  const label = file.replace(/\.(spec|test)\./, '.').replace(/\.[^./]+$/, '').split('/').join(' \u203a ');
  const prefix = parts.slice(0, -1).join(' \u203a ');
  return label === prefix || label.endsWith(` \u203a ${prefix}`);
}

/** Counts from the trace, with every check that could make them wrong. */
export function summarize({ tap, traceText, exitCode, stderr = '', cwd = process.cwd() }) {
  const files = parseTrace(traceText, cwd);
  const failures = fileFailures(tap, files, stderr);
  let passed = 0;
  let testFailed = 0;
  let skipped = 0;
  let avaSkips = 0;
  for (const f of files.values()) {
    passed += f.passed.size;
    testFailed += f.failed.size;
    for (const s of f.selected.values()) if (s.skip || s.todo) skipped++;
    for (const s of f.selected.values()) if (s.skip) avaSkips++;
  }
  const tapPassed = tap.results.filter((r) => r.ok && !r.directive).length;
  if (files.size === 0 && tap.results.length > 0) failures.push('no trace from the ava workers (scripts/ava-trace.mjs not loaded?), so the results cannot be checked');
  if (tapPassed !== passed) failures.push(`ava's TAP shows ${tapPassed} passing tests, its workers reported ${passed}`);
  if (tap.plan === undefined && !failures.some((f) => /did not finish|exited|no tests/.test(f))) failures.push(`ava's TAP output has no plan line: ${whyTapStopped(stderr)}`);
  if (tap.plan !== undefined && tap.counts.pass !== undefined && tap.counts.pass !== passed) failures.push(`ava counts ${tap.counts.pass} passed, its workers reported ${passed}`);
  if (tap.plan !== undefined && (tap.counts.skip ?? 0) !== avaSkips) failures.push(`ava counts ${tap.counts.skip ?? 0} skipped, its workers selected ${avaSkips} to skip`);
  if (exitCode !== 0 && testFailed === 0 && failures.length === 0) failures.push(`ava exited with ${exitCode ?? 'a signal'} and no test failed`);
  const failed = testFailed + failures.length;
  return { passed, failed, skipped, failures, exitCode: failed > 0 ? 1 : 0 };
}
