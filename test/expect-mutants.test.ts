// Every expectation in both directions: a matcher must hold when the output is right and fail,
// with its message, when it is wrong by the smallest step (one match too many, a substring for
// equals, a row where there should be none, a history row counted or not).
import test from 'ava';
import { capture, check, checkMatcher } from '../lab/run/expect.js';
import type { CommandResult } from '../lab/machine/ssh.js';
import type { Expectation } from '../lab/scenario/model.js';

const member = (id: string) => `member ${id} is healthy: got healthy result from http://192.168.0.1:2379`;
const healthy = (n: number) => [...Array.from({ length: n }, (_, i) => member(`${i}abc`)), 'cluster is healthy', ''].join('\n');
const HEALTHY = '^member [0-9a-f]+ is healthy';
const run = (stdout: string, exitCode: number | null = 0, stderr = ''): CommandResult => ({ node: 'n', command: 'c', stdout, stderr, exitCode, durationMs: 1 });
const expect = (e: Partial<Expectation>): Expectation => ({ stdout: [], stderr: [], table: [], ...e });

test('matches with times is exact: a 4th healthy member fails "times: 3", as do 2', (t) => {
  t.is(checkMatcher(healthy(3), { matches: HEALTHY, times: 3 }, {}), undefined);
  t.is(checkMatcher(healthy(4), { matches: HEALTHY, times: 3 }, {}), `should match /${HEALTHY}/ 3 time(s), found 4`);
  t.is(checkMatcher(healthy(2), { matches: HEALTHY, times: 3 }, {}), `should match /${HEALTHY}/ 3 time(s), found 2`);
  t.is(checkMatcher(healthy(0), { matches: HEALTHY, times: 0 }, {}), undefined, 'times: 0 holds when there is none');
  t.is(checkMatcher(healthy(1), { matches: HEALTHY, times: 0 }, {}), `should match /${HEALTHY}/ 0 time(s), found 1`);
});

test('matches is per line (^ and $ at each line) and counts every match', (t) => {
  t.is(checkMatcher('a\nb\n', { matches: '^b$' }, {}), undefined);
  t.is(checkMatcher('xb\n', { matches: '^b$' }, {}), 'does not match /^b$/');
  t.is(checkMatcher('ab ab ab', { matches: 'ab', times: 3 }, {}), undefined);
  t.is(checkMatcher('nothing', { matches: HEALTHY }, {}), `does not match /${HEALTHY}/`);
  t.is(checkMatcher('id=42', { matches: 'id={{n}}' }, { n: '42' }), undefined, 'variables are filled in');
  t.is(checkMatcher('id=43', { matches: 'id={{n}}', times: 2 }, { n: '42' }), 'should match /id=42/ 2 time(s), found 0');
});

test('contains with and without times, both directions', (t) => {
  t.is(checkMatcher('ab ab ab', { contains: 'ab', times: 3 }, {}), undefined);
  t.is(checkMatcher('ab ab ab', { contains: 'ab', times: 2 }, {}), 'should contain "ab" 2 time(s), found 3');
  t.is(checkMatcher('ab', { contains: 'ab' }, {}), undefined);
  t.is(checkMatcher('a b', { contains: 'ab' }, {}), 'does not contain "ab"');
  t.is(checkMatcher('no error here', { contains: 'error', times: 0 }, {}), 'should contain "error" 0 time(s), found 1');
  t.is(checkMatcher('all fine', { contains: 'error', times: 0 }, {}), undefined);
  t.is(checkMatcher('url=http://x', { contains: '{{u}}' }, { u: 'http://x' }), undefined);
  t.is(checkMatcher('url={{u}}', { contains: '{{u}}' }, { u: 'http://x' }), 'does not contain "http://x"');
  t.is(checkMatcher('anything', { contains: '' }, {}), 'does not contain ""', 'an empty needle never holds');
  t.is(checkMatcher('anything', {}, {}), 'does not contain ""', 'a matcher with nothing to look for never holds');
});

test('equals is the whole output (trailing whitespace aside): a substring, a prefix or extra lines fail', (t) => {
  t.is(checkMatcher('active\n', { equals: 'active' }, {}), undefined);
  t.is(checkMatcher('active  \n\n', { equals: 'active\n' }, {}), undefined);
  t.is(checkMatcher('inactive\n', { equals: 'active' }, {}), 'is not equal to "active"');
  t.is(checkMatcher('active\n', { equals: 'act' }, {}), 'is not equal to "act"');
  t.is(checkMatcher('active\nmore\n', { equals: 'active' }, {}), 'is not equal to "active"');
  t.is(checkMatcher(' active', { equals: 'active' }, {}), 'is not equal to "active"', 'leading space counts');
  t.is(checkMatcher('active', { equals: ' active' }, {}), 'is not equal to " active"');
  t.is(checkMatcher('v=2', { equals: 'v={{v}}' }, { v: '2' }), undefined);
  t.is(checkMatcher('v={{v}}', { equals: 'v={{v}}' }, { v: '2' }), 'is not equal to "v=2"');
  t.is(checkMatcher('', { equals: '' }, {}), undefined);
  t.is(checkMatcher('x', { equals: '', contains: 'x' }, {}), 'is not equal to ""', 'equals wins over contains');
});

test('exit: checked only when given; a command that did not finish fails whatever it expected', (t) => {
  t.deepEqual(check(run('', 3), expect({}), {}), [], 'no exit: expectation, any status');
  t.deepEqual(check(run('', 3), expect({ exit: 3 }), {}), []);
  t.deepEqual(check(run('', 0), expect({ exit: 1 }), {}), ['exit status 0, expected 1']);
  t.deepEqual(check(run('', null), expect({}), {}), ['the command did not finish: unknown reason']);
  t.deepEqual(check({ ...run('', null), error: 'timed out' }, expect({ exit: 0 }), {}), ['the command did not finish: timed out'], 'only the one failure');
});

test('stdout and stderr matchers each fail with their stream named, all failures listed', (t) => {
  const e = expect({ stdout: [{ contains: 'out' }, { contains: 'gone' }], stderr: [{ contains: 'warn' }] });
  t.deepEqual(check(run('out', 0, 'warn'), e, {}), ['stdout does not contain "gone"']);
  t.deepEqual(check(run('err', 1, 'out'), { ...e, exit: 0 }, {}), ['exit status 1, expected 0', 'stdout does not contain "out"', 'stdout does not contain "gone"', 'stderr does not contain "warn"']);
  t.deepEqual(check(run('x', 0, 'x'), expect({ stderr: [{ equals: 'x' }] }), {}), []);
});

const PS = `ID             NAME              IMAGE          NODE       DESIRED STATE   CURRENT STATE
a1             webserver.1       nginx:latest   worker1    Running         Running 5 seconds ago
a0              \\_ webserver.1   nginx:latest   manager0   Shutdown        Shutdown 1 minute ago
b1             webserver.2       nginx:latest   worker0    Running         Running 9 seconds ago
`;

test('table count: 0 holds only when no row matches ("never on manager0")', (t) => {
  const never = (node: string, history?: boolean) => check(run(PS), expect({ table: [{ where: { NODE: node }, count: 0, history }] }), {});
  t.deepEqual(never('manager1'), []);
  t.deepEqual(never('worker1'), ['table rows where NODE=worker1: 1, expected 0']);
  t.deepEqual(never('manager0'), [], 'a history row is not a task that runs there');
  t.deepEqual(never('manager0', true), ['table rows where NODE=manager0: 1, expected 0'], 'unless history rows are asked for');
});

test('table count is exact, and without count at least one row must match', (t) => {
  const rows = (where: Record<string, string>, count?: number, history?: boolean) => check(run(PS), expect({ table: [{ where, count, history }] }), {});
  t.deepEqual(rows({ 'DESIRED STATE': 'Running' }, 2), []);
  t.deepEqual(rows({ 'DESIRED STATE': 'Running' }, 1), ['table rows where DESIRED STATE=Running: 2, expected 1']);
  t.deepEqual(rows({ 'DESIRED STATE': 'Running' }, 3), ['table rows where DESIRED STATE=Running: 2, expected 3']);
  t.deepEqual(rows({ 'DESIRED STATE': 'Running' }), []);
  t.deepEqual(rows({ 'DESIRED STATE': 'Shutdown' }), ['table rows where DESIRED STATE=Shutdown: 0, expected at least 1']);
  t.deepEqual(rows({ 'DESIRED STATE': 'Shutdown' }, undefined, true), []);
  t.deepEqual(rows({ NAME: 'webserver.1' }, 2, true), [], 'the history row counts with history: true');
  t.deepEqual(rows({ NAME: 'webserver.1' }, 1, false), []);
  t.deepEqual(rows({ NODE: '{{n}}', 'DESIRED STATE': 'Running' }, 1), ['table rows where NODE={{n}}, DESIRED STATE=Running: 0, expected 1'], 'no variable: left as written');
  t.deepEqual(check(run(PS), expect({ table: [{ where: { NODE: '{{n}}', 'DESIRED STATE': 'Running' }, count: 1 }] }), { n: 'worker0' }), []);
});

test('a table expectation on a missing column names the columns, and the other checks go on', (t) => {
  const e = expect({ table: [{ where: { HOST: 'x', NODE: 'worker1' }, count: 1 }, { where: { ZONE: 'a' } }, { where: { NODE: 'worker9' }, count: 1 }] });
  t.deepEqual(check(run(PS), e, {}), [
    'the table has no column HOST (columns: ID, NAME, IMAGE, NODE, DESIRED STATE, CURRENT STATE)',
    'the table has no column ZONE (columns: ID, NAME, IMAGE, NODE, DESIRED STATE, CURRENT STATE)',
    'table rows where NODE=worker9: 0, expected 1',
  ]);
  t.deepEqual(check(run(''), expect({ table: [{ where: { NODE: 'a' } }] }), {}), ['the table has no column NODE (columns: none)']);
  t.deepEqual(check(run(''), expect({ table: [{ where: { NODE: 'a', HOST: 'b' } }] }), {}), ['the table has no column NODE, HOST (columns: none)']);
});

test('captures: a regex group per line, a table cell of the first matching row, and what could not be captured', (t) => {
  const out = 'header\ntoken: abc\nother: def\n';
  t.deepEqual(capture(run(out), [{ name: 'tok', stdout: '^token: (\\S+)$' }], {}), { values: { tok: 'abc' }, problems: [] });
  t.deepEqual(capture(run(out), [{ name: 'v', stdout: '^{{k}}: (\\S+)' }], { k: 'other' }), { values: { v: 'def' }, problems: [] });
  t.deepEqual(capture(run(out), [{ name: 'tok', stdout: 'token' }], {}), { values: {}, problems: ['could not capture tok: stdout does not match /token/'] }, 'no group: nothing to capture');
  t.deepEqual(capture(run(out), [{ name: 'e', stdout: 'token: (x?)abc' }], {}), { values: { e: '' }, problems: [] }, 'an empty group is a value');
  const node = (where: Record<string, string>, column = 'NODE', vars = {}) => capture(run(PS), [{ name: 'n', table: { where, column } }], vars);
  t.deepEqual(node({ 'DESIRED STATE': 'Running' }), { values: { n: 'worker1' }, problems: [] }, 'the first row');
  t.deepEqual(node({ NAME: 'webserver.2' }), { values: { n: 'worker0' }, problems: [] });
  t.deepEqual(node({ NAME: '{{s}}' }, 'NODE', { s: 'webserver.2' }), { values: { n: 'worker0' }, problems: [] });
  t.deepEqual(node({ 'DESIRED STATE': 'Shutdown' }), { values: {}, problems: ['could not capture n: no table row with a NODE column matches {"DESIRED STATE":"Shutdown"}'] }, 'history rows are not captured');
  t.deepEqual(node({ 'DESIRED STATE': 'Running' }, 'ZONE'), { values: {}, problems: ['could not capture n: no table row with a ZONE column matches {"DESIRED STATE":"Running"}'] });
  const two = capture(run(out), [{ name: 'a', stdout: 'token: (\\w+)' }, { name: 'b', stdout: 'missing (\\w+)' }, { name: 'c', stdout: 'other: (\\w+)' }], {});
  t.deepEqual(two, { values: { a: 'abc', c: 'def' }, problems: ['could not capture b: stdout does not match /missing (\\w+)/'] });
});
