import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allPassed, attemptLines, runWithReruns } from '../lab/run/attempts.js';
import type { RunOptions } from '../lab/run/runner.js';
import type { ScenarioResult } from '../lab/run/results.js';
import type { CheckedScenario as Plan } from '../lab/cluster/plan.js';
import type { Catalog } from '../lab/images/catalog.js';
import { junit, writeReports } from '../lab/report/report.js';
import { all, parseXml, type XmlElement } from './helpers/xml.js';
import { scenarioResult } from './helpers/results.js';
import { tempTree } from './helpers/files.js';
import { execa } from 'execa';
import { which } from '../lab/host/tools.js';

const STEPS: Array<[string, number]> = [['boots', 10], ['the attempt is 2 or more', 1], ['after it', 2]];
const plan = { name: 'flaky-one' } as Plan;
const catalog = new Map() as Catalog;

/** A stand-in for runScenario: attempt N gives outcomes[N-1] ('pass', 'fail' at step 2, 'error' in set-up), recording its options. */
function fakeRun(outcomes: Array<'pass' | 'fail' | 'error'>, seen: RunOptions[]) {
  return async (_p: Plan, o: RunOptions = { catalog }): Promise<ScenarioResult> => {
    seen.push(o);
    const k = outcomes[(o.attempt ?? 1) - 1];
    return scenarioResult(`2026-12-01T02:0${o.attempt}:00.000Z`, STEPS, k === 'fail' ? { failAt: 1 } : k === 'error' ? { error: 'timed out after 15m waiting for node00 to accept SSH' } : {});
  };
}

test('a scenario that fails once, then passes, is flaky; the rerun is cold, with run.attempt 2, its consoles in attempt-2/', async (t) => {
  const seen: RunOptions[] = [];
  const r = await runWithReruns(plan, { catalog, reportDir: '/r' }, 2, fakeRun(['fail', 'pass'], seen));
  t.is(r.status, 'flaky');
  t.is(r.attempt, 2);
  t.deepEqual(r.attempts!.map((a) => [a.attempt, a.status]), [[1, 'failed'], [2, 'passed']]);
  t.deepEqual(seen.map((o) => [o.attempt, o.cold, o.reportDir]), [[1, undefined, '/r'], [2, true, '/r/attempt-2']]);
  t.is(r.nodes[0].console, 'attempt-2/consoles/node00.log');
  t.is(r.attempts![0].steps[1].status, 'failed', 'the failed attempt keeps its failing step and output');
  t.is(r.attempts![0].steps[1].stdout, 'output of the attempt is 2 or more\n');
  t.true(allPassed([r]));
  t.false(allPassed([r], true), '--fail-on-flaky');
  const lines = attemptLines(r);
  t.regex(lines[0], /^attempt 1\/2: failed at step 2 "the attempt is 2 or more" \(scenarios\/etcd-discovery\/scenario\.yaml:14\): exit status 1, expected 0$/);
  t.is(lines[1], 'attempt 2/2 (cold): passed');
  t.is(lines[2], 'flaky: failed 1 time(s), passed on attempt 2');
});

test('a scenario that fails every attempt is run N+1 times and fails; one that passes at once, or without reruns, is not rerun', async (t) => {
  const seen: RunOptions[] = [];
  const r = await runWithReruns(plan, { catalog }, 2, fakeRun(['fail', 'error', 'fail'], seen));
  t.is(seen.length, 3);
  t.is(r.status, 'failed');
  t.is(r.attempts!.length, 3);
  t.false(allPassed([r]));
  const once: RunOptions[] = [];
  const p = await runWithReruns(plan, { catalog }, 2, fakeRun(['pass'], once));
  t.is(once.length, 1);
  t.is(p.status, 'passed');
  t.is(p.attempts, undefined);
  const none: RunOptions[] = [];
  t.is((await runWithReruns(plan, { catalog }, 0, fakeRun(['fail', 'pass'], none))).status, 'failed');
  t.is(none.length, 1);
  const aborted: RunOptions[] = [];
  const ac = new AbortController();
  ac.abort();
  await runWithReruns(plan, { catalog, signal: ac.signal }, 3, fakeRun(['error', 'pass'], aborted));
  t.is(aborted.length, 1, 'an interrupted run is not rerun');
});

const suiteOf = (xml: string) => all(parseXml(xml), 'testsuite')[0];
const caseNamed = (suite: XmlElement, name: RegExp) => suite.children.find((c) => c.name === 'testcase' && name.test(c.attrs.name))!;
const kids = (e: XmlElement, name: string) => e.children.filter((c) => c.name === name);

test('junit.xml of a flaky scenario: the passing test case has a <flakyFailure> per failed attempt, as Surefire writes it', async (t) => {
  const r = await runWithReruns(plan, { catalog }, 3, fakeRun(['fail', 'fail', 'pass'], []));
  const doc = parseXml(junit([r]));
  t.is(doc.name, 'testsuites');
  const suite = suiteOf(junit([r]));
  t.is(suite.attrs.failures, '0');
  t.is(suite.attrs.tests, '3');
  t.is(kids(suite, 'testcase').length, 3);
  const flaky = caseNamed(suite, /^02 /);
  t.deepEqual(flaky.children.map((c) => c.name), ['flakyFailure', 'flakyFailure', 'system-out']);
  const f = kids(flaky, 'flakyFailure')[0];
  t.is(f.attrs.message, 'exit status 1, expected 0');
  t.is(f.attrs.type, 'StepFailure');
  t.deepEqual(f.children.map((c) => c.name), ['stackTrace', 'system-out', 'system-err']);
  t.regex(kids(f, 'stackTrace')[0].text, /^on node00: \$ check 1\nexit status: 1\n- exit status 1, expected 0/);
  t.is(kids(f, 'system-out')[0].text, 'output of the attempt is 2 or more');
  t.is(all(doc, 'failure').length + all(doc, 'rerunFailure').length, 0);
  t.is(caseNamed(suite, /^03 /).children.length, 1, 'a step skipped in the failed attempts gets nothing extra');
});

test('junit.xml of a scenario that failed every attempt: <failure> plus a <rerunFailure> per rerun; a set-up error that a rerun got past is a <flakyError>', async (t) => {
  const r = await runWithReruns(plan, { catalog }, 2, fakeRun(['fail', 'fail', 'fail'], []));
  const suite = suiteOf(junit([r]));
  t.is(suite.attrs.failures, '1');
  const failed = caseNamed(suite, /^02 /);
  t.deepEqual(failed.children.map((c) => c.name), ['failure', 'rerunFailure', 'rerunFailure', 'system-out']);
  t.is(kids(failed, 'rerunFailure')[1].attrs.type, 'StepFailure');
  t.is(kids(kids(failed, 'rerunFailure')[0], 'stackTrace').length, 1);
  const e = await runWithReruns(plan, { catalog }, 2, fakeRun(['error', 'pass'], []));
  const s2 = suiteOf(junit([e]));
  t.is(s2.attrs.tests, '4', 'the steps and the lab set-up');
  t.is(s2.attrs.errors, '0');
  const setUp = caseNamed(s2, /^lab set-up$/);
  t.deepEqual(setUp.children.map((c) => c.name), ['flakyError']);
  t.is(setUp.children[0].attrs.type, 'LabError');
  t.regex(kids(setUp.children[0], 'stackTrace')[0].text, /timed out after 15m/);
  const always = await runWithReruns(plan, { catalog }, 1, fakeRun(['error', 'error'], []));
  t.deepEqual(caseNamed(suiteOf(junit([always])), /^lab set-up$/).children.map((c) => c.name), ['error', 'rerunError']);
});

test('report.json keeps every attempt with its failing step; report.html lists the failed attempts', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  const r = await runWithReruns(plan, { catalog }, 1, fakeRun(['fail', 'pass'], []));
  writeReports(out.dir, [r]);
  const json = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8'));
  t.is(json.startedAt, r.startedAt);
  const s = json.scenarios[0];
  t.is(s.status, 'flaky');
  t.deepEqual(s.attempts.map((a: { status: string }) => a.status), ['failed', 'passed']);
  t.is(s.attempts[0].steps[1].failures[0], 'exit status 1, expected 0');
  const html = readFileSync(join(out.dir, 'report.html'), 'utf8');
  t.regex(html, /"status":"flaky"/);
  t.regex(html, /\.flaky\{/);
});

// Debian's chromium, which scripts/setup.sh installs; without it this test is skipped, and says why.
const chromium = which('chromium');
if (!chromium) console.log('# skipping the flaky report.html check: Debian\'s chromium is not installed (scripts/setup.sh installs it)');
(chromium ? test : test.skip)('report.html of a flaky scenario shows it flaky, with the failed attempt and its output, in headless Chromium', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  writeReports(out.dir, [await runWithReruns(plan, { catalog }, 1, fakeRun(['fail', 'pass'], []))]);
  const r = await execa(chromium!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${join(out.dir, 'profile')}`, '--dump-dom', `file://${join(out.dir, 'report.html')}`,
  ], { timeout: 90_000 });
  t.regex(r.stdout, /data-rendered="yes"/, 'the report script ran');
  t.regex(r.stdout, /<h2 class="flaky">etcd-discovery: flaky in /);
  t.regex(r.stdout, /<div class="attempt failed">attempt 1 of 2: failed at step 2 "the attempt is 2 or more": exit status 1, expected 0<details><summary>output of attempt 1<\/summary><pre>\$ check 1\noutput of the attempt is 2 or more\n\nboom\n<\/pre>/);
});
