import test from 'ava';
import { regexCount, regexGroup, regexTest, RegexTimeout } from '../lab/run/boundedregex.js';
import { capture } from '../lab/run/expect.js';
import { cellMatches } from '../lab/run/tables.js';
import { runStep, type StepTarget } from '../lab/run/steps.js';
import type { CommandResult } from '../lab/machine/ssh.js';
import type { RunStep } from '../lab/scenario/model.js';

const EVIL = '^(a+)+$';
const OUTPUT = 'a'.repeat(30) + '!';

test.serial('the bounded regexes mean what JavaScript regexes mean', (t) => {
  const text = 'member 1 is healthy\nmember 2 is healthy\ncluster is healthy\n';
  t.is(regexCount('^member \\d+ is healthy', 'gm', text), [...text.matchAll(/^member \d+ is healthy/gm)].length);
  t.is(regexCount('x*', 'g', 'ab'), 3, 'empty matches count as JavaScript counts them');
  t.is(regexGroup('token (SWMTKN-\\S+)', 'm', 'a\ntoken SWMTKN-1-abc x'), 'SWMTKN-1-abc');
  t.is(regexGroup('nope (\\d)', 'm', 'a'), undefined);
  t.true(regexTest('^worker[01]$', '', 'worker1'));
  t.false(regexTest('^worker[01]$', '', 'worker2'));
  t.throws(() => regexTest('(', '', 'x'), { message: /invalid regex \/\(\/: .*Unterminated group/ });
});

const target = (stdout: string): StepTarget => ({
  run: async (node, command): Promise<CommandResult> => ({ node, command, stdout, stderr: '', exitCode: 0, durationMs: 1 }),
  act: async () => '', partition: async () => '', heal: async () => '',
});

function step(extra: Partial<RunStep>): RunStep {
  return { kind: 'run', index: 0, name: 'evil', line: 3, node: 'n', nodes: ['n'], command: 'echo', expect: { exit: 0, stdout: [], stderr: [], table: [] }, timeoutMs: 5000, capture: [], ...extra };
}

test.serial('a catastrophic matches: fails its step in about 2s, with a message that says so, and the lab goes on', async (t) => {
  const t0 = Date.now();
  const r = await runStep(step({ expect: { exit: 0, stdout: [{ matches: EVIL }], stderr: [], table: [] }, until: { timeoutMs: 60_000, intervalMs: 100 } }), target(OUTPUT), {});
  const took = Date.now() - t0;
  t.is(r.status, 'failed');
  t.is(r.message, `regex /${EVIL}/ took longer than 2s on 31 characters of output; simplify it (e.g. no nested repetition such as (a+)+)`);
  t.true(took < 5000, `took ${took} ms`);
  // The next check runs on a fresh worker at once.
  const ok = await runStep(step({ expect: { exit: 0, stdout: [{ matches: '^a+!$' }], stderr: [], table: [] } }), target(OUTPUT), {});
  t.is(ok.status, 'passed', ok.message);
});

test.serial('a catastrophic capture regex and table regex are bounded too', (t) => {
  let t0 = Date.now();
  t.throws(() => capture({ node: 'n', command: 'c', stdout: OUTPUT, stderr: '', exitCode: 0, durationMs: 1 }, [{ name: 'x', stdout: '^((a+)+)$' }], {}), { instanceOf: RegexTimeout });
  t.true(Date.now() - t0 < 5000);
  t0 = Date.now();
  t.throws(() => cellMatches(OUTPUT, `/${EVIL}/`), { instanceOf: RegexTimeout, message: /took longer than 2s on 31 characters/ });
  t.true(Date.now() - t0 < 5000);
});
