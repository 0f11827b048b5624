import test from 'ava';
import { check, checkMatcher } from '../lab/expect.js';
import type { CommandResult } from '../lab/guest.js';

const HEALTH = `member 3aaf91fd1172594e is healthy: got healthy result from http://192.168.0.11:2379
member 8cf40790248e1dcd is healthy: got healthy result from http://192.168.0.12:2379
member 96b61f40c082cd0b is healthy: got healthy result from http://192.168.0.10:2379
cluster is healthy
`;
const result = (stdout: string, exitCode: number | null = 0): CommandResult => ({ node: 'n', command: 'c', stdout, stderr: '', exitCode, durationMs: 1 });

test('contains, matches with times, equals', (t) => {
  t.is(checkMatcher(HEALTH, { contains: 'cluster is healthy' }, {}), undefined);
  t.is(checkMatcher(HEALTH, { matches: '^member [0-9a-f]+ is healthy', times: 3 }, {}), undefined);
  t.is(checkMatcher(HEALTH, { matches: '^member [0-9a-f]+ is healthy', times: 4 }, {}), 'should match /^member [0-9a-f]+ is healthy/ 4 time(s), found 3');
  t.is(checkMatcher('x\n', { equals: 'x' }, {}), undefined);
  t.is(checkMatcher('y\n', { equals: 'x' }, {}), 'is not equal to "x"');
  t.is(checkMatcher(HEALTH, { contains: 'degraded' }, {}), 'does not contain "degraded"');
});

test('variables are filled into expectations', (t) => {
  t.is(checkMatcher('url=http://a/b', { contains: '{{discovery.url}}' }, { 'discovery.url': 'http://a/b' }), undefined);
});

test('exit status and unfinished commands are failures', (t) => {
  t.deepEqual(check(result(HEALTH, 5), { exit: 0, stdout: [], stderr: [] }, {}), ['exit status 5, expected 0']);
  t.deepEqual(check({ ...result('', null), error: 'no answer within 5s' }, { exit: 0, stdout: [], stderr: [] }, {}), ['the command did not finish: no answer within 5s']);
  t.deepEqual(check(result(HEALTH), { exit: 0, stdout: [{ contains: 'cluster is healthy' }], stderr: [] }, {}), []);
});
