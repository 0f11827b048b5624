import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTable, select } from '../lab/run/tables.js';

// As the article prints them (docker 1.12 on RancherOS).
const NODE_LS = `ID                           HOSTNAME  STATUS  AVAILABILITY  MANAGER STATUS
366euocei01dw3ay66uwzb3pv    worker0   Ready   Active
67pt4fo5gi13cxkphtfzfbfbo    worker1   Ready   Active
8gf95qb6l61v5s6561qx5vfy6 *  manager0  Ready   Active        Leader
`;
const SERVICE_PS = `ID                         NAME             IMAGE  NODE     DESIRED STATE  CURRENT STATE             ERROR
5lwf4z54p74qtoopuilshw204  webserver.1      nginx  worker0  Running        Preparing 32 seconds ago
cjxkza3qzx5m73bgbls0r26m6   \\_ webserver.1  nginx  worker1  Shutdown       Running 16 minutes ago
`;
const FLEET_UNITS = 'UNIT\tMACHINE\tACTIVE\tSUB\nnginx.service\t1ad018e0.../192.168.0.11\tactive\trunning\n';

test('docker node ls: columns by header, including the two-word MANAGER STATUS', (t) => {
  const table = parseTable(NODE_LS);
  t.deepEqual(table.columns, ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS']);
  t.is(table.rows.length, 3);
  t.is(select(table, { STATUS: 'Ready' }).length, 3);
  t.deepEqual(select(table, { 'MANAGER STATUS': 'Leader' }).map((r) => r.cells.HOSTNAME), ['manager0']);
  t.is(table.rows[2].cells.ID, '8gf95qb6l61v5s6561qx5vfy6 *');
});

test('docker service ps: history rows are marked and left out unless asked for', (t) => {
  const table = parseTable(SERVICE_PS);
  t.deepEqual(table.rows.map((r) => [r.cells.NAME, r.history]), [['webserver.1', false], ['webserver.1', true]]);
  t.deepEqual(select(table, { 'DESIRED STATE': 'Running' }).map((r) => r.cells.NODE), ['worker0']);
  t.deepEqual(select(table, { 'DESIRED STATE': 'Shutdown' }, { history: true }).map((r) => r.cells.NODE), ['worker1']);
  t.is(select(table, { 'CURRENT STATE': '/^Preparing/' }).length, 1);
  t.is(table.rows[0].cells.ERROR, '');
  t.deepEqual(select(table, { NODE: '!worker1' }, { history: true }).map((r) => r.cells.NODE), ['worker0']);
  t.is(select(table, { NODE: '!/^worker/' }).length, 0);
});

test('fleetctl tab-separated tables', (t) => {
  const table = parseTable(FLEET_UNITS);
  t.deepEqual(table.columns, ['UNIT', 'MACHINE', 'ACTIVE', 'SUB']);
  t.deepEqual(table.rows[0].cells, { UNIT: 'nginx.service', MACHINE: '1ad018e0.../192.168.0.11', ACTIVE: 'active', SUB: 'running' });
});

// Output captured from real runs of the scenarios on labos (docker 20.10, fleet v1.0.0).
const captured = (f: string) => readFileSync(join('test/fixtures/captured', f), 'utf8');

test('real docker 20.10 output: node ls with a Down worker, service ps after a failover, service ls', (t) => {
  const nodes = parseTable(captured('docker-node-ls-down.txt'));
  t.deepEqual(nodes.columns, ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION']);
  t.deepEqual(select(nodes, { STATUS: 'Down' }).map((r) => r.cells.HOSTNAME), ['worker0']);
  t.deepEqual(select(nodes, { HOSTNAME: 'manager0' })[0].cells, { ID: 'veyboor3zickk8b2efwtlru2j *', HOSTNAME: 'manager0', STATUS: 'Ready', AVAILABILITY: 'Drain', 'MANAGER STATUS': 'Leader', 'ENGINE VERSION': '20.10.24+dfsg1' });
  t.is(select(nodes, { HOSTNAME: 'worker1' })[0].cells['MANAGER STATUS'], '');
  const ps = parseTable(captured('docker-service-ps-moved.txt'));
  t.deepEqual(ps.rows.map((r) => [r.cells.NAME, r.cells.NODE, r.cells['DESIRED STATE'], r.cells['CURRENT STATE'], r.history]), [
    ['webserver.1', 'worker1', 'Running', 'Running 5 seconds ago', false],
    ['webserver.1', 'worker0', 'Shutdown', 'Running about a minute ago', true],
  ]);
  const ls = parseTable(captured('docker-service-ls.txt'));
  t.like(ls.rows[0].cells, { NAME: 'webserver', MODE: 'replicated', REPLICAS: '2/2', PORTS: '*:80->80/tcp' });
});

test('real fleetctl v1.0.0 output: list-units, list-unit-files, list-machines', (t) => {
  t.deepEqual(parseTable(captured('fleetctl-list-units.txt')).rows[0].cells, { UNIT: 'nginx.service', MACHINE: '4e1b2237.../192.168.0.11', ACTIVE: 'active', SUB: 'running' });
  t.deepEqual(parseTable(captured('fleetctl-list-unit-files.txt')).rows[0].cells, { UNIT: 'nginx.service', HASH: '0c112c1', DSTATE: 'launched', STATE: 'launched', TARGET: '4e1b2237.../192.168.0.11' });
  const machines = parseTable(captured('fleetctl-list-machines.txt'));
  t.deepEqual(machines.rows.map((r) => r.cells.IP), ['192.168.0.11', '192.168.0.12', '192.168.0.10']);
  t.deepEqual(select(machines, { IP: '!192.168.0.11' }).map((r) => r.cells.METADATA), ['name=node02', 'name=node00']);
});
