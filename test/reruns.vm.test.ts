// Real VM tests of --rerun-failed: they boot a one-node labos lab (KVM when present, else TCG), once
// per attempt, cold. Serial, since the host has two cores. Nothing is mocked.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertLabGone, corelab } from './helpers/lab.js';
import { tempTree } from './helpers/files.js';
import { all, parseXml, type XmlElement } from './helpers/xml.js';

/** The tests' own checkpoint store and state dir: a user's are neither used nor touched. */
const CHECKPOINTS = mkdtempSync(join(tmpdir(), 'corelab-test-checkpoints-'));
const STATE = mkdtempSync(join(tmpdir(), 'corelab-test-state-'));
const ENV = { CORELAB_CHECKPOINTS: CHECKPOINTS, CORELAB_STATE: STATE };
test.after.always(() => {
  rmSync(CHECKPOINTS, { recursive: true, force: true });
  rmSync(STATE, { recursive: true, force: true });
});

const testcase = (xml: string, name: RegExp): XmlElement => all(parseXml(xml), 'testcase').find((c) => name.test(c.attrs.name))!;

test.serial('a step that fails on attempt 1 and passes on attempt 2 ({{run.attempt}}) is flaky in the summary, report.json and junit.xml; exit 0', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  const r = await corelab(['run', 'test/fixtures/flaky', '--rerun-failed', '1', '--report', out.dir], ENV);
  t.log(r.all.split('\n').slice(-25).join('\n'));
  t.is(r.exitCode, 0, 'flaky is not a failure without --fail-on-flaky');
  t.regex(r.all, /flaky-attempt: attempt 1 of up to 2 failed at step 2 "passes from the second attempt on"; running it again, cold \(--rerun-failed 1\)/);
  t.regex(r.all, /^FLAKY flaky-attempt in [\d.]+s: 3 passed, 0 failed, 0 skipped$/m);
  t.regex(r.all, /^ {2}attempt 1\/2: failed at step 2 "passes from the second attempt on" \(test\/fixtures\/flaky\/scenario\.yaml:\d+\): exit status 1, expected 0$/m);
  t.regex(r.all, /^ {2}flaky: failed 1 time\(s\), passed on attempt 2$/m);
  const s = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')).scenarios[0];
  t.is(s.status, 'flaky');
  t.is(s.attempt, 2);
  t.deepEqual(s.attempts.map((a: { attempt: number; status: string }) => [a.attempt, a.status]), [[1, 'failed'], [2, 'passed']]);
  t.like(s.attempts[0].steps[1], { status: 'failed', command: 'test 1 -ge 2', exitCode: 1 });
  t.is(s.attempts[0].steps[2].status, 'skipped');
  t.like(s.steps[1], { status: 'passed', command: 'test 2 -ge 2' });
  t.is(s.steps[2].stdout.trim(), 'attempt 2');
  t.true(existsSync(join(out.dir, 'consoles', 'solo.log')), 'attempt 1\'s console');
  t.is(s.nodes[0].console, 'attempt-2/consoles/solo.log');
  t.true(existsSync(join(out.dir, s.nodes[0].console)), 'attempt 2\'s console');
  const junit = readFileSync(join(out.dir, 'junit.xml'), 'utf8');
  t.is(all(parseXml(junit), 'failure').length, 0);
  const flaky = testcase(junit, /^02 /);
  t.deepEqual(flaky.children.map((c) => c.name), ['flakyFailure']);
  t.is(flaky.children[0].attrs.message, 'exit status 1, expected 0');
  t.regex(all(flaky, 'stackTrace')[0].text, /on solo: \$ test 1 -ge 2\nexit status: 1/);
  assertLabGone(t, 'flaky-attempt', r.all);
});

test.serial('a scenario that fails every attempt exits 1 after N+1 attempts, with <failure> and a <rerunFailure> per rerun', async (t) => {
  const out = tempTree({});
  t.teardown(out.remove);
  const r = await corelab(['run', 'test/fixtures/flaky/always-fails.yaml', '--rerun-failed', '2', '--report', out.dir], ENV);
  t.log(r.all.split('\n').slice(-25).join('\n'));
  t.is(r.exitCode, 1);
  t.is((r.all.match(/SSH is up after/g) ?? []).length, 3, 'three cold boots');
  t.regex(r.all, /^FAILED always-fails in [\d.]+s: 1 passed, 1 failed, 0 skipped$/m);
  t.regex(r.all, /^ {2}attempt 3\/3 \(cold\): failed at step 2 "fails every time"/m);
  const s = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')).scenarios[0];
  t.is(s.status, 'failed');
  t.deepEqual(s.attempts.map((a: { status: string }) => a.status), ['failed', 'failed', 'failed']);
  const failed = testcase(readFileSync(join(out.dir, 'junit.xml'), 'utf8'), /^02 /);
  t.deepEqual(failed.children.map((c) => c.name), ['failure', 'rerunFailure', 'rerunFailure']);
  assertLabGone(t, 'always-fails', r.all);
});
