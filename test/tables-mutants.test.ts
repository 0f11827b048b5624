// The table parser and row selection, edge by edge: how columns are cut, short and blank lines,
// history rows of docker service ps, and where-clauses (exact, /regex/, !negated) both ways.
import test from 'ava';
import { cellMatches, parseTable, select } from '../lab/run/tables.js';

test('no text, or only blank lines: no columns, no rows', (t) => {
  t.deepEqual(parseTable(''), { columns: [], rows: [] });
  t.deepEqual(parseTable('\n  \n\r\n'), { columns: [], rows: [] });
});

test('space-aligned: header words split at 2+ spaces, cells cut at the header offsets, the last to the line end', (t) => {
  const text = 'NAME  DESIRED STATE   NODE\r\n\r\nweb   Running          worker 0 extra\nshort\n';
  const table = parseTable(text);
  t.deepEqual(table.columns, ['NAME', 'DESIRED STATE', 'NODE']);
  t.deepEqual(table.rows.map((r) => r.cells), [
    { NAME: 'web', 'DESIRED STATE': 'Running', NODE: 'worker 0 extra' },
    { NAME: 'short', 'DESIRED STATE': '', NODE: '' },
  ]);
  t.deepEqual(table.rows.map((r) => r.line), ['web   Running          worker 0 extra', 'short'], 'each row keeps its line, without \\r');
  t.deepEqual(table.rows.map((r) => r.history), [false, false]);
  t.deepEqual(parseTable('   \nA  B\n1  2\n').rows[0].cells, { A: '1', B: '2' }, 'the header is the first non-blank line');
  t.deepEqual(parseTable('ONE TWO  THREE\nx y  z\n').columns, ['ONE TWO', 'THREE'], 'one space keeps words together');
});

test('tab-separated: split at runs of tabs, cells trimmed, missing cells empty', (t) => {
  const table = parseTable('UNIT\t\tMACHINE\tACTIVE\n a.service \t\tm1\tactive\nb.service\tm2\n');
  t.deepEqual(table.columns, ['UNIT', 'MACHINE', 'ACTIVE']);
  t.deepEqual(table.rows.map((r) => r.cells), [
    { UNIT: 'a.service', MACHINE: 'm1', ACTIVE: 'active' },
    { UNIT: 'b.service', MACHINE: 'm2', ACTIVE: '' },
  ]);
  t.deepEqual(parseTable('UNIT \t MACHINE\nu\tm\n').columns, ['UNIT', 'MACHINE'], 'header names trimmed too');
  t.deepEqual(parseTable('UNIT \t MACHINE\nu\tm\n').rows[0].cells, { UNIT: 'u', MACHINE: 'm' });
});

test('history rows: "\\_ " before the NAME (or, without NAME, the first column) marks one and is taken off', (t) => {
  const ps = 'ID   NAME            NODE\n1    web.1           w1\n2     \\_ web.1       w0\n3    web\\_x          w2\n';
  const table = parseTable(ps);
  t.deepEqual(table.rows.map((r) => [r.cells.NAME, r.history]), [['web.1', false], ['web.1', true], ['web\\_x', false]]);
  t.is(table.rows[1].cells.ID, '2', 'only the name column is changed');
  const noName = parseTable('TASK    NODE\n\\_ t1   w1\nt2      w2\n');
  t.deepEqual(noName.rows.map((r) => [r.cells.TASK, r.history]), [['t1', true], ['t2', false]]);
  const idFirst = parseTable('ID      NAME\n\\_ x    n\n');
  t.deepEqual(idFirst.rows.map((r) => [r.cells.ID, r.cells.NAME, r.history]), [['\\_ x', 'n', false]], 'with a NAME column, the first column is not looked at');
  const tabbed = parseTable('NAME\tNODE\n\\_web\tw0\n');
  t.deepEqual(tabbed.rows.map((r) => [r.cells.NAME, r.history]), [['web', true]]);
});

const TABLE = parseTable('NAME    NODE       STATE\nweb.1   worker0    Running\nweb.2   worker1    Shutdown\n \\_ w   manager0   Shutdown\nweb.10  worker10   Running\n');

test('select: every where-clause must hold; history rows only when asked for', (t) => {
  const names = (where: Record<string, string>, history?: boolean) => select(TABLE, where, history === undefined ? undefined : { history }).map((r) => r.cells.NAME);
  t.deepEqual(names({}), ['web.1', 'web.2', 'web.10']);
  t.deepEqual(names({}, true), ['web.1', 'web.2', 'w', 'web.10']);
  t.deepEqual(names({}, false), ['web.1', 'web.2', 'web.10']);
  t.deepEqual(names({ STATE: 'Running' }), ['web.1', 'web.10']);
  t.deepEqual(names({ STATE: 'Shutdown', NODE: 'worker1' }), ['web.2']);
  t.deepEqual(names({ STATE: 'Running', NODE: 'worker1' }), []);
  t.deepEqual(names({ STATE: 'Shutdown' }, true), ['web.2', 'w']);
  t.deepEqual(names({ NODE: 'worker1' }), ['web.2'], 'exact: worker1 is not worker10');
  t.deepEqual(names({ NODE: '/^worker1/' }), ['web.2', 'web.10']);
  t.deepEqual(names({ NODE: '!worker0' }), ['web.2', 'web.10']);
  t.deepEqual(names({ NODE: '!/^worker/' }, true), ['w']);
  t.deepEqual(names({ ZONE: 'a' }), [], 'a column the table lacks matches nothing');
  t.deepEqual(names({ ZONE: '!a' }), [], 'not even negated');
});

test('cellMatches: exact, /regex/ (unanchored unless anchored), "!" for anything but', (t) => {
  t.true(cellMatches('Running', 'Running'));
  t.false(cellMatches('Running', 'Run'));
  t.false(cellMatches('Run', 'Running'));
  t.true(cellMatches('Running 5s', '/Run/'));
  t.false(cellMatches('Running', '/^unning/'));
  t.false(cellMatches('Running', '/x/'));
  t.true(cellMatches('/x', '/x'), 'no closing slash: exact text');
  t.false(cellMatches('ax', '/x'), 'no closing slash: not a regex');
  t.false(cellMatches('/x/', '/^x$/'), 'between the slashes is the regex');
  t.true(cellMatches('a/x', '//x/'));
  t.false(cellMatches('ay', 'x/y/'), 'a regex is the whole value between slashes: "x/y/" is text');
  t.true(cellMatches('x/y/', 'x/y/'));
  t.false(cellMatches('ax', '/x/y'), '"/x/y" is text, not /x/ and a y');
  t.true(cellMatches('/x/y', '/x/y'));
  t.true(cellMatches('Shutdown', '!Running'));
  t.false(cellMatches('Running', '!Running'));
  t.false(cellMatches('Running', '!/Run/'));
  t.true(cellMatches('Running', '!!Running'));
  t.false(cellMatches(undefined, 'x'));
  t.false(cellMatches(undefined, '!x'));
  t.true(cellMatches('', ''));
  t.true(cellMatches('', '!x'));
});
