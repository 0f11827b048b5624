import test from 'ava';
import { capture, check, checkMatcher } from '../lab/run/expect.js';
import type { CommandResult } from '../lab/machine/ssh.js';
import type { Expectation } from '../lab/scenario/model.js';

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
  t.deepEqual(check(result(HEALTH, 5), { exit: 0, stdout: [], stderr: [], table: [] }, {}), ['exit status 5, expected 0']);
  t.deepEqual(check({ ...result('', null), error: 'no answer within 5s' }, { exit: 0, stdout: [], stderr: [], table: [] }, {}), ['the command did not finish: no answer within 5s']);
  t.deepEqual(check(result(HEALTH), { exit: 0, stdout: [{ contains: 'cluster is healthy' }], stderr: [], table: [] }, {}), []);
});

const INIT = `Swarm initialized: current node (8gf95qb6l61v5s6561qx5vfy6) is now a manager.

To add a worker to this swarm, run the following command:

    docker swarm join --token SWMTKN-1-0hlhela57gsvxzoaqol70n2b9wos6qlu3ukriry3pcxyb9j2k6-0n1if4hkvdvmrpbb7f3clx1yg 192.168.0.100:2377
`;
const PS = `ID             NAME              IMAGE          NODE      DESIRED STATE   CURRENT STATE            ERROR     PORTS
5lwf4z54p74q   webserver.1       nginx:latest   worker0   Running         Running 10 seconds ago
cjxkza3qzx5m    \\_ webserver.1   nginx:latest   worker1   Shutdown        Running 2 minutes ago
`;

test('captures take a regex group or a table cell', (t) => {
  const c = capture(result(INIT), [{ name: 'token', stdout: '--token (\\S+)' }], {});
  t.deepEqual(c, { values: { token: 'SWMTKN-1-0hlhela57gsvxzoaqol70n2b9wos6qlu3ukriry3pcxyb9j2k6-0n1if4hkvdvmrpbb7f3clx1yg' }, problems: [] });
  const d = capture(result(PS), [{ name: 'task_node', table: { where: { 'DESIRED STATE': 'Running' }, column: 'NODE' } }], {});
  t.deepEqual(d.values, { task_node: 'worker0' });
  const e = capture(result('nothing'), [{ name: 'token', stdout: '--token (\\S+)' }], {});
  t.deepEqual(e.problems, ['could not capture token: stdout does not match /--token (\\S+)/']);
});

test('table expectations count rows by column values', (t) => {
  const exp: Expectation = { exit: 0, stdout: [], stderr: [], table: [{ where: { NODE: '{{w}}', 'DESIRED STATE': 'Running' }, count: 1 }, { where: { NODE: 'manager0' }, count: 0 }] };
  t.deepEqual(check(result(PS), exp, { w: 'worker0' }), []);
  t.deepEqual(check(result(PS), exp, { w: 'worker1' }), ['table rows where NODE=worker1, DESIRED STATE=Running: 0, expected 1']);
  t.deepEqual(check(result(PS), { ...exp, table: [{ where: { HOST: 'x' } }] }, {}), ['the table has no column HOST (columns: ID, NAME, IMAGE, NODE, DESIRED STATE, CURRENT STATE, ERROR, PORTS)']);
});
